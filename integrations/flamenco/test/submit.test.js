// SPDX-License-Identifier: MIT OR Apache-2.0
//
// submit.js: quoting round-trips through the job script's splitter, the job
// it posts to a (local, fake) Manager, the Manager's refusals, and the local
// refusals that post nothing.

"use strict";

const assert = require("node:assert/strict");
const http = require("node:http");
const path = require("node:path");
const test = require("node:test");

const { loadJobType } = require("../flamenco_env.js");
const { main, quote } = require("../submit.js");

const { compile } = loadJobType(path.join(__dirname, "..", "morph_render.js"));

/** Runs submit.js's main() with `argv`, capturing what it prints. */
async function submit(argv) {
    const out = [];
    const err = [];
    const [log, error] = [console.log, console.error];
    console.log = (...a) => out.push(a.join(" "));
    console.error = (...a) => err.push(a.join(" "));
    try {
        const code = await main(argv);
        return { code, stdout: out.join("\n"), stderr: err.join("\n") };
    } finally {
        console.log = log;
        console.error = error;
    }
}

/** A fake Manager answering POST /api/v3/jobs with `reply(body)` = [status, json]. */
async function fakeManager(reply) {
    const requests = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => { body += c; });
        req.on("end", () => {
            requests.push({ method: req.method, url: req.url, type: req.headers["content-type"], body: JSON.parse(body) });
            const [status, json] = reply(JSON.parse(body));
            res.writeHead(status, { "Content-Type": "application/json" });
            res.end(JSON.stringify(json));
        });
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${server.address().port}`;
    return { url, requests, close: () => new Promise((r) => server.close(r)) };
}

test("every argument survives quoting and the job script's splitting", () => {
    const argv = [
        "plate.####.exr", "my plate.exr", "it's", "\"quoted\"", "back\\slash", "", "$HOME",
        "#lead", "a#b", "-1.5,2", "tab\there", "ünï cödé", "-o", "out.####.exr",
    ];
    const tasks = compile({ command: "clamp", arguments: argv.map(quote).join(" "), frames: "1", chunk_size: 1, exe: "m" });
    assert.deepEqual(tasks[0].commands[0].parameters.args, ["clamp", ...argv, "--frames", "1", "--json"]);
    assert.equal(quote("plate.####.exr"), "plate.####.exr", "patterns stay readable");
});

test("a job is posted to the Manager as Flamenco's API takes it", async () => {
    const manager = await fakeManager((job) => [200, { id: "4f1c", name: job.name, ...job }]);
    try {
        const r = await submit([
            "--manager", `${manager.url}/`, "--frames", "1001-1025", "--chunk-size", "10", "--name", "sh010 undistort",
            "--", "stmap", "plate.####.exr", "lens map.exr", "-o", "undist.####.exr", "--filter", "ewa",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /submitted job 4f1c "sh010 undistort": 3 tasks/);
        assert.equal(manager.requests.length, 1);
        const { method, url, type, body } = manager.requests[0];
        assert.equal(method, "POST");
        assert.equal(url, "/api/v3/jobs");
        assert.equal(type, "application/json");
        assert.equal(body.type, "morph-render");
        assert.equal(body.priority, 50);
        assert.ok(["linux", "windows", "darwin"].includes(body.submitter_platform));
        assert.deepEqual(body.settings, {
            command: "stmap",
            arguments: "plate.####.exr 'lens map.exr' -o undist.####.exr --filter ewa",
            frames: "1001-1025",
            chunk_size: 10,
            task_type: "morph",
            exe: "{morph_render}",
        });
    } finally {
        await manager.close();
    }
});

test("the Manager's refusal is reported, exit code 1", async () => {
    const manager = await fakeManager(() => [412, { code: 412, message: "job type morph-render unknown" }]);
    try {
        const r = await submit(["--manager", manager.url, "--frames", "1-3", "--", "clamp", "a.####.exr", "-o", "b.####.exr"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /refused the job \(HTTP 412\): job type morph-render unknown/);
    } finally {
        await manager.close();
    }
    const r = await submit(["--manager", "http://127.0.0.1:9", "--frames", "1", "--", "clamp", "a.exr", "-o", "b.exr"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /127\.0\.0\.1:9\/api\/v3\/jobs/);
});

test("a command line the job script refuses is not sent, exit code 2", async () => {
    const manager = await fakeManager(() => [200, {}]);
    try {
        for (const [argv, reason] of [
            [["--frames", "1-3", "--", "clamp", "a.####.exr", "-o", "b.####.exr", "-f", "1-3"], /frames setting/],
            [["--frames", "1-3", "--", "interpolate", "a.exr", "b.exr", "-o", "m.exr"], /expected one of/],
            [["--frames", "1-3", "--", "clamp", "a.####.exr"], /no output/],
            [["--frames", "1-3", "--chunk-size", "0", "--", "clamp", "a.####.exr", "-o", "b.####.exr"], /chunk_size/],
            [["--frames", "1-3", "--priority", "101", "--", "clamp", "a", "-o", "b"], /--priority 101/],
            [["--frames", "1-3", "clamp", "a", "-o", "b"], /goes after --/],
            [["--", "clamp", "a", "-o", "b"], /--frames is required/],
            [["--frames", "1", "--bogus", "--", "clamp", "a", "-o", "b"], /unknown option --bogus/],
        ]) {
            const r = await submit(["--manager", manager.url, ...argv]);
            assert.equal(r.code, 2, argv.join(" "));
            assert.match(r.stderr, reason, argv.join(" "));
        }
        assert.equal(manager.requests.length, 0, "nothing was posted");
    } finally {
        await manager.close();
    }
});

test("--dry-run prints the job and its tasks without a Manager", async () => {
    const r = await submit(["--dry-run", "--frames", "1-3", "--chunk-size", "2", "--", "clamp", "a.####.exr", "-o", "b.####.exr"]);
    assert.equal(r.code, 0, r.stderr);
    const { job, tasks } = JSON.parse(r.stdout);
    assert.equal(job.settings.command, "clamp");
    assert.deepEqual(tasks.map((t) => t.commands[0].parameters.args.slice(-3)), [
        ["--frames", "1,2", "--json"],
        ["--frames", "3", "--json"],
    ]);
});
