#!/usr/bin/env node
// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Submits a morph-render command line to a Flamenco Manager as a job of the
// `morph-render` type (morph_render.js), one task per chunk of frames:
//
//     node submit.js --manager http://manager:8080 --frames 1001-1100 [options] \
//         -- stmap plate.####.exr lens.exr -o undist.####.exr --filter ewa
//
// The command line after `--` is quoted for the job's `arguments` setting so
// that every task runs exactly those arguments (plus `--frames CHUNK
// --json`). Before sending, the job is compiled here with the same script
// the Manager runs, so a bad command line is refused with its reason and
// nothing is submitted; `--dry-run` prints the tasks instead of submitting.
// Exit codes: 0 submitted (or dry run), 1 the Manager refused or is
// unreachable, 2 bad arguments.

"use strict";

const path = require("node:path");

const { loadJobType } = require("./flamenco_env.js");

const USAGE = `usage: submit.js --manager URL --frames RANGE [--name NAME] [--chunk-size N]
                 [--priority 0-100] [--task-type TYPE] [--exe PATH] [--dry-run]
                 -- COMMAND ARGS...`;

/** Quotes one argument for a POSIX shell (and morph_render.js's splitter). */
function quote(arg) {
    // `#` only inside a word (a shell reads a leading one as a comment).
    const plain = /^[A-Za-z0-9_@%+=:,./-][A-Za-z0-9_@%+=:,./#-]*$/;
    return plain.test(arg) ? arg : `'${arg.split("'").join(`'\\''`)}'`;
}

/** Parses this tool's options; throws a message for exit code 2. */
function parseOptions(argv) {
    const split = argv.indexOf("--");
    if (split < 0 || split === argv.length - 1) {
        throw `the morph-render command line goes after --\n${USAGE}`;
    }
    const own = argv.slice(0, split);
    const command = argv.slice(split + 1);
    const opts = { chunkSize: 10, priority: 50, taskType: "morph", exe: "{morph_render}", dryRun: false };
    for (let i = 0; i < own.length; i++) {
        const flag = own[i];
        const value = () => {
            if (i + 1 >= own.length) throw `${flag} needs a value\n${USAGE}`;
            return own[++i];
        };
        switch (flag) {
        case "--manager": opts.manager = value(); break;
        case "--frames": opts.frames = value(); break;
        case "--name": opts.name = value(); break;
        case "--chunk-size": opts.chunkSize = Number(value()); break;
        case "--priority": opts.priority = Number(value()); break;
        case "--task-type": opts.taskType = value(); break;
        case "--exe": opts.exe = value(); break;
        case "--dry-run": opts.dryRun = true; break;
        case "-h": case "--help": throw USAGE;
        default: throw `unknown option ${flag}\n${USAGE}`;
        }
    }
    if (!opts.frames) throw `--frames is required (e.g. 1001-1100)\n${USAGE}`;
    if (!opts.manager && !opts.dryRun) throw `--manager is required (e.g. http://manager:8080)\n${USAGE}`;
    if (!Number.isInteger(opts.priority) || opts.priority < 0 || opts.priority > 100) {
        throw `--priority ${opts.priority}: expected a whole number 0-100`;
    }
    opts.job = {
        name: opts.name || `${command[0]} ${opts.frames}`,
        type: "morph-render",
        priority: opts.priority,
        submitter_platform: { win32: "windows", darwin: "darwin" }[process.platform] || "linux",
        settings: {
            command: command[0],
            arguments: command.slice(1).map(quote).join(" "),
            frames: opts.frames,
            chunk_size: opts.chunkSize,
            task_type: opts.taskType,
            exe: opts.exe,
        },
    };
    return opts;
}

async function main(argv) {
    let opts;
    let tasks;
    try {
        opts = parseOptions(argv);
        // The Manager's own compilation, run here first.
        tasks = loadJobType(path.join(__dirname, "morph_render.js")).compile(opts.job.settings);
    } catch (e) {
        console.error(`submit.js: ${e instanceof Error ? e.message : e}`);
        return 2;
    }
    if (opts.dryRun) {
        console.log(JSON.stringify({ job: opts.job, tasks }, null, 2));
        return 0;
    }
    const url = `${opts.manager.replace(/\/+$/, "")}/api/v3/jobs`;
    let response;
    try {
        response = await fetch(url, {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify(opts.job),
        });
    } catch (e) {
        console.error(`submit.js: ${url}: ${e.cause ? e.cause.message : e.message}`);
        return 1;
    }
    const text = await response.text();
    if (!response.ok) {
        let reason = text;
        try {
            reason = JSON.parse(text).message || text;
        } catch (_) { /* not JSON */ }
        console.error(`submit.js: the Manager refused the job (HTTP ${response.status}): ${reason}`);
        return 1;
    }
    const job = JSON.parse(text);
    console.log(`submitted job ${job.id} "${job.name}": ${tasks.length} tasks`);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}

module.exports = { main, parseOptions, quote };
