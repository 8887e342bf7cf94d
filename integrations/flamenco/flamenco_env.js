// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Runs a Flamenco job compiler script the way Flamenco Manager does: the
// script is evaluated in its own context whose globals are Flamenco's
// (`author`, `frameChunker`, `print`), then `compileJob(job)` authors tasks.
// `frameChunker` follows the Manager's `jsFrameChunker` (Flamenco 3.x,
// internal/manager/job_compilers/js_globals.go): "A-B" and "A..B" ranges and
// single frames, comma-separated, exploded, de-duplicated and sorted, cut
// into chunks of `chunkSize` frames, each merged back into "A-B" runs (a run
// of two frames is written "A,B").

"use strict";

const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

function frameChunker(frameRange, chunkSize) {
    const range = String(frameRange).trim();
    if (range.length === 0) {
        throw new Error(`invalid range "${range}": empty range`);
    }
    if (!(chunkSize >= 1)) {
        throw new Error(`invalid chunk size, must be positive number: ${chunkSize}`);
    }
    const frames = new Set();
    const regular = range.split("..").join("-");
    for (const part of regular.split(",")) {
        const ends = part.split("-");
        const parse = (s) => {
            const t = s.trim();
            if (!/^[+-]?\d+$/.test(t)) {
                throw new Error(`invalid range "${regular}": ${part}`);
            }
            return parseInt(t, 10);
        };
        if (ends.length === 1) {
            frames.add(parse(ends[0]));
        } else if (ends.length === 2) {
            const [a, b] = [parse(ends[0]), parse(ends[1])];
            for (let f = a; f <= b; f++) {
                frames.add(f);
            }
        } else {
            throw new Error(`invalid range "${regular}": ${part}`);
        }
    }
    const sorted = [...frames].sort((a, b) => a - b);
    if (sorted.length === 0) {
        throw new Error(`invalid range "${range}": empty range`);
    }
    const chunks = [];
    for (let i = 0; i < sorted.length; i += chunkSize) {
        chunks.push(mergeRange(sorted.slice(i, i + chunkSize)));
    }
    return chunks;
}

function mergeRange(frames) {
    const ranges = [];
    const append = (from, to) => {
        if (from === to) {
            ranges.push(String(from));
        } else if (from + 1 === to) {
            ranges.push(String(from), String(to));
        } else {
            ranges.push(`${from}-${to}`);
        }
    };
    let start = frames[0];
    let prev = frames[0];
    for (const f of frames) {
        if (f > prev + 1) {
            append(start, prev);
            start = f;
        }
        prev = f;
    }
    append(start, prev);
    return ranges.join(",");
}

/** Flamenco's `author` module: tasks with commands, as plain objects. */
const author = {
    Task(name, type) {
        name = String(name).trim();
        type = String(type).trim();
        if (!name) throw new Error("author.Task(name, type): name is required");
        if (!type) throw new Error("author.Task(name, type): type is required");
        return {
            name,
            type,
            commands: [],
            dependencies: [],
            addCommand(c) { this.commands.push(c); },
            addDependency(t) { this.dependencies.push(t); },
        };
    },
    Command(name, parameters) {
        return { name, parameters };
    },
};

/** Loads a job compiler script: its `JOB_TYPE` and a `compile(settings)`. */
function loadJobType(file) {
    const source = fs.readFileSync(file, "utf8");
    const context = vm.createContext({ author, frameChunker, print: () => {} });
    vm.runInContext(`${source}\n;globalThis.__jobType = JOB_TYPE;`, context, {
        filename: path.basename(file),
    });
    // Plain data out of the script's realm (its arrays have their own
    // prototypes), as the Manager stores it.
    const plain = (v) => JSON.parse(JSON.stringify(v));
    return {
        jobType: plain(context.__jobType),
        /**
         * Compiles a job with `settings`; returns its tasks as `{name, type,
         * commands, dependencies}` (dependencies by name). Throws what the
         * script throws.
         */
        compile(settings) {
            const tasks = [];
            const job = { name: "test job", settings, addTask: (t) => tasks.push(t) };
            context.compileJob(job);
            return tasks.map((t) => ({
                name: t.name,
                type: t.type,
                commands: plain(t.commands),
                dependencies: t.dependencies.map((d) => d.name),
            }));
        },
    };
}

module.exports = { frameChunker, loadJobType };
