// SPDX-License-Identifier: MIT OR Apache-2.0
//
// The morph-render Flamenco job type: settings, chunking, argument handling,
// refusals, and (with MORPH_RENDER set to a built morph-render) its tasks run
// end to end on the bundled testdata, matching one unchunked run.
//
//     MORPH_RENDER=target/debug/morph-render node --test integrations/flamenco/test/morph_render.test.js

"use strict";

const assert = require("node:assert/strict");
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const test = require("node:test");

const { frameChunker, loadJobType } = require("../flamenco_env.js");

const SCRIPT = path.join(__dirname, "..", "morph_render.js");
const ROOT = path.join(__dirname, "..", "..", "..");
const { jobType, compile } = loadJobType(SCRIPT);

const base = {
    command: "clamp",
    arguments: "in.####.exr -o out.####.exr",
    frames: "1001-1025",
    chunk_size: 10,
    task_type: "morph",
    exe: "{morph_render}",
};

test("the harness chunks frames as Flamenco Manager does", () => {
    assert.deepEqual(frameChunker("1-10", 4), ["1-4", "5-8", "9,10"]);
    assert.deepEqual(frameChunker("1..5,20,3", 10), ["1-5,20"]);
    assert.deepEqual(frameChunker(" 47 ", 1), ["47"]);
    assert.deepEqual(frameChunker("1,3,5-9", 3), ["1,3,5", "6-8", "9"]);
    assert.throws(() => frameChunker("", 1), /empty range/);
    assert.throws(() => frameChunker("1 10", 1), /invalid range/);
});

test("JOB_TYPE declares the settings Flamenco shows and checks", () => {
    assert.equal(jobType.label, "morph-render");
    const keys = jobType.settings.map((s) => s.key);
    assert.deepEqual(keys, ["command", "arguments", "frames", "chunk_size", "task_type", "exe"]);
    const types = new Set(["string", "int32", "float", "bool"]);
    for (const s of jobType.settings) {
        assert.ok(types.has(s.type), `${s.key}: type ${s.type}`);
        assert.ok(s.description, `${s.key}: description`);
    }
    const command = jobType.settings.find((s) => s.key === "command");
    // Every choice is a real morph-render command that takes --frames.
    assert.ok(command.choices.includes("stmap") && command.choices.includes("retime"));
    assert.ok(!command.choices.includes("interpolate"), "interpolate renders one frame");
});

test("one exec task per chunk, the chunk as --frames", () => {
    const tasks = compile(base);
    assert.equal(tasks.length, 3);
    assert.deepEqual(tasks.map((t) => t.name), ["clamp 1001-1010", "clamp 1011-1020", "clamp 1021-1025"]);
    for (const t of tasks) {
        assert.equal(t.type, "morph");
        assert.equal(t.commands.length, 1);
        assert.equal(t.commands[0].name, "exec");
        assert.equal(t.commands[0].parameters.exe, "{morph_render}");
        assert.deepEqual(t.dependencies, []);
    }
    assert.deepEqual(tasks[2].commands[0].parameters.args,
        ["clamp", "in.####.exr", "-o", "out.####.exr", "--frames", "1021-1025", "--json"]);
});

test("arguments are split as a shell would, without expansions", () => {
    const tasks = compile({
        ...base,
        command: "stmap",
        arguments: `'my plate.####.exr' "lens map.exr" -o out\\ dir/o.####.exr --offset "-1.5,2" --filter ewa`,
        frames: "7",
    });
    assert.deepEqual(tasks[0].commands[0].parameters.args, [
        "stmap", "my plate.####.exr", "lens map.exr", "-o", "out dir/o.####.exr",
        "--offset", "-1.5,2", "--filter", "ewa", "--frames", "7", "--json",
    ]);
    // Windows paths keep their backslashes (a backslash escapes only
    // whitespace and quotes), UNC paths included.
    const windows = compile({
        ...base,
        arguments: String.raw`C:\plates\a.####.exr -o \\farm\renders\o.####.exr "D:\with space\m.exr" x\"y`,
        frames: "1",
    });
    assert.deepEqual(windows[0].commands[0].parameters.args.slice(1, 6), [
        String.raw`C:\plates\a.####.exr`, "-o", String.raw`\\farm\renders\o.####.exr`,
        String.raw`D:\with space\m.exr`, 'x"y',
    ]);
    const frequency = compile({ ...base, command: "frequency", arguments: "p.####.exr --low=lo.####.exr --high hi.####.exr" });
    assert.equal(frequency.length, 3);
});

test("bad settings are refused when the job is submitted, naming the setting", () => {
    assert.throws(() => compile({ ...base, command: "interpolate" }), /command "interpolate".*expected one of/);
    assert.throws(() => compile({ ...base, arguments: "in.####.exr -o o.####.exr -f 1-5" }), /frames setting/);
    assert.throws(() => compile({ ...base, arguments: "in.####.exr -o o.####.exr --frames=1-5" }), /frames setting/);
    assert.throws(() => compile({ ...base, arguments: "in.####.exr" }), /no output/);
    assert.throws(() => compile({ ...base, arguments: "'in.####.exr -o o.exr" }), /quote ' is not closed/);
    assert.throws(() => compile({ ...base, chunk_size: 0 }), /chunk_size 0/);
    assert.throws(() => compile({ ...base, exe: "  " }), /exe is empty/);
    assert.throws(() => compile({ ...base, frames: "10 20" }), /invalid range/);
});

// End to end: the tasks' commands, run as a worker's `exec` would (no shell),
// render every frame once, as one unchunked run does.
test("the tasks render the frames a single run renders", { skip: !process.env.MORPH_RENDER && "MORPH_RENDER not set" }, () => {
    const exe = path.resolve(process.env.MORPH_RENDER);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "morph-flamenco-"));
    try {
        const plate = path.join(ROOT, "testdata", "pan", "pan.####.png");
        const args = (out) => `'${plate}' -o '${path.join(dir, out)}' --min 0.1 --max 0.6`;
        const tasks = compile({ ...base, arguments: args("chunked.####.exr"), frames: "1001-1005", chunk_size: 2, exe });
        assert.equal(tasks.length, 3);
        for (const t of tasks) {
            const { exe: program, args: argv } = t.commands[0].parameters;
            const run = spawnSync(program, argv, { encoding: "utf8" });
            assert.equal(run.status, 0, `${t.name}: ${run.stderr}`);
            // --json: one event per line, the last one the finish.
            const events = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
            assert.equal(events[events.length - 1].event, "finish");
            assert.equal(events[events.length - 1].failed, 0);
        }
        execFileSync(exe, ["clamp", plate, "-o", path.join(dir, "whole.####.exr"), "--min", "0.1", "--max", "0.6",
            "--frames", "1001-1005", "--quiet"]);
        for (let f = 1001; f <= 1005; f++) {
            const a = fs.readFileSync(path.join(dir, `chunked.${f}.exr`));
            const b = fs.readFileSync(path.join(dir, `whole.${f}.exr`));
            assert.ok(a.equals(b), `frame ${f} differs from the unchunked run`);
        }
        assert.ok(!fs.existsSync(path.join(dir, "chunked.1006.exr")));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
