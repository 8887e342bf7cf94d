// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Flamenco job type: one morph-render command over a frame range, one task
// per chunk of frames. Install: copy this file into the `scripts/` folder
// next to `flamenco-manager` (Flamenco 3.3 or newer: the tasks use the
// worker's `exec` command) and restart the Manager. See README.md here.
//
// Each task runs, on a worker, without a shell:
//
//     {exe} COMMAND ARGUMENTS... --frames CHUNK --json
//
// `exe` defaults to the Manager variable `{morph_render}` (the path of
// morph-render per worker platform, set in flamenco-manager.yaml), so paths
// in the arguments can use the Manager's two-way variables too. morph-render
// writes each frame atomically and `--skip-existing` resumes, so a requeued
// task is safe to run again.

/** The morph-render commands that render a sequence frame by frame. */
const MORPH_COMMANDS = [
    "retime",
    "morph",
    "motion-blur",
    "stmap",
    "frequency",
    "frequency-merge",
    "clamp",
];

const JOB_TYPE = {
    label: "morph-render",
    description: "Render a sequence with morph-render (retime, Morph transition, "
        + "motion blur, STMap, frequency bands, clamp), one task per chunk of frames",
    settings: [
        { key: "command", type: "string", required: true, choices: MORPH_COMMANDS,
          description: "The morph-render command" },
        { key: "arguments", type: "string", required: true,
          description: "Everything after the command except the frame range: inputs, "
              + "-o OUTPUT and options, as on a command line (quote with '...' or \"...\"; "
              + "backslashes in paths are kept). "
              + "Example: plate.####.exr lens.exr -o undist.####.exr --filter ewa" },
        { key: "frames", type: "string", required: true,
          description: "Frames to render. Examples: '1001', '1001-1100', '1001,1005,1010-1020'" },
        { key: "chunk_size", type: "int32", default: 10, propargs: { min: 1 },
          description: "Frames per task: a task reads its inputs and renders its frames in one process" },
        { key: "task_type", type: "string", default: "morph", visible: "web",
          description: "Flamenco task type of the tasks: workers run it when it is in their task_types" },
        { key: "exe", type: "string", default: "{morph_render}", visible: "web",
          description: "The morph-render executable (default: the Manager variable morph_render)" },
    ],
};

function compileJob(job) {
    const settings = job.settings;
    const command = settings.command;
    if (MORPH_COMMANDS.indexOf(command) < 0) {
        throw `command "${command}" is not a morph-render sequence command; `
            + `expected one of ${MORPH_COMMANDS.join(", ")}`;
    }
    const exe = String(settings.exe || "").trim();
    if (!exe) {
        throw "exe is empty: give the morph-render executable or the {morph_render} variable";
    }
    const args = splitArguments(String(settings.arguments || ""));
    for (const a of args) {
        if (a === "-f" || a === "--frames" || a.startsWith("--frames=")
            || (a.startsWith("-f") && !a.startsWith("--"))) {
            throw `arguments hold "${a}": the job's frames setting gives each task its frames`;
        }
    }
    // -o / --output, or frequency's band outputs.
    const output = /^(-o|--output(=.*)?|--(low|mid|high)(=.*)?)$|^-o./;
    if (!args.some((a) => output.test(a))) {
        throw "arguments name no output: add -o OUTPUT (e.g. -o out.####.exr)";
    }
    const chunkSize = settings.chunk_size === undefined ? 10 : Number(settings.chunk_size);
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
        throw `chunk_size ${settings.chunk_size} must be a whole number, 1 or more`;
    }
    const taskType = String(settings.task_type || "morph").trim();

    for (const chunk of frameChunker(settings.frames, chunkSize)) {
        const task = author.Task(`${command} ${chunk}`, taskType);
        task.addCommand(author.Command("exec", {
            exe: exe,
            args: [command].concat(args, ["--frames", chunk, "--json"]),
        }));
        job.addTask(task);
    }
}

/**
 * Splits a command line into arguments, shell-style but kind to Windows
 * paths: whitespace separates, '...' is literal, "..." is literal but for
 * \" (a quote), and outside quotes a backslash escapes only whitespace or a
 * quote; any other backslash is kept, so C:\plates\a.exr and
 * \\server\share stay as typed. No expansions ($, ~, globs) of any kind.
 */
function splitArguments(line) {
    const args = [];
    let current = "";
    let inWord = false;
    let quote = null;
    for (let i = 0; i < line.length; i++) {
        const c = line[i];
        const next = line[i + 1];
        if (quote === "'") {
            if (c === "'") {
                quote = null;
            } else {
                current += c;
            }
        } else if (quote === '"') {
            if (c === '"') {
                quote = null;
            } else if (c === "\\" && next === '"') {
                current += line[++i];
            } else {
                current += c;
            }
        } else if (c === "'" || c === '"') {
            quote = c;
            inWord = true;
        } else if (c === "\\" && next !== undefined && (next === "'" || next === '"' || /\s/.test(next))) {
            current += line[++i];
            inWord = true;
        } else if (/\s/.test(c)) {
            if (inWord) {
                args.push(current);
                current = "";
                inWord = false;
            }
        } else {
            current += c;
            inWord = true;
        }
    }
    if (quote !== null) {
        throw `arguments: the quote ${quote} is not closed`;
    }
    if (inWord) {
        args.push(current);
    }
    return args;
}
