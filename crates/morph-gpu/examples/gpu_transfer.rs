//! Where a frame's host ↔ device copies spend their time, step by step, on
//! the best adapter: an RGBA f32 frame (1080p and 4K) uploaded with
//! `queue.write_buffer` (what `Frame::upload` does) and read back through a
//! `MAP_READ` staging buffer (what `Frame::read_*` do), the read-back split
//! into the GPU copy + map, and the copy out of the mapped range into a fresh
//! `Vec` and into one already written (no page faults), on one thread and on
//! all; and an upload through a kept `MAP_WRITE` staging buffer.
//!
//! `XDG_RUNTIME_DIR=/tmp cargo run --release -p morph-gpu --example gpu_transfer`

use std::sync::mpsc;
use std::time::{Duration, Instant};

use morph_gpu::{GpuContext, Preference};
use rayon::prelude::*;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn report(what: &str, bytes: usize, times: Vec<Duration>) {
    let t = median(times);
    println!(
        "  {what:<44} {:8.2} ms  {:6.1} GB/s",
        t.as_secs_f64() * 1e3,
        bytes as f64 / t.as_secs_f64() / 1e9
    );
}

/// `what`, with the number of threads rayon runs.
fn all_threads(what: &str) -> String {
    format!("{what} ({} threads)", rayon::current_num_threads())
}

fn wait(ctx: &GpuContext, index: wgpu::SubmissionIndex) {
    ctx.device()
        .poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: None,
        })
        .expect("poll");
}

fn main() {
    let ctx = GpuContext::new(Preference::AnyAdapter).expect("a GPU adapter");
    println!("{}", ctx.adapter_summary());
    let (device, queue) = (ctx.device(), ctx.queue());
    const RUNS: usize = 7;
    for (w, h) in [(1920usize, 1080usize), (3840, 2160)] {
        let n = w * h * 16;
        println!(
            "{w}x{h} RGBA f32, {:.1} MB, median of {RUNS}",
            n as f64 / 1e6
        );
        let data = vec![1u8; n];
        let storage = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("storage"),
            size: n as u64,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("staging"),
            size: n as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });

        let mut write_call = Vec::new();
        let mut upload = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            queue.write_buffer(&storage, 0, &data);
            write_call.push(t.elapsed());
            let index = queue.submit([]);
            wait(&ctx, index);
            upload.push(t.elapsed());
        }
        report("upload: write_buffer call", n, write_call);
        report("upload: write_buffer + submit + wait", n, upload);

        // A kept MAP_WRITE staging buffer: map, copy in (all threads),
        // unmap, GPU copy.
        let up = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("upload staging"),
            size: n as u64,
            usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let (mut map_w, mut fill, mut fill1, mut copy_up) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for run in 0..RUNS {
            let t = Instant::now();
            let (tx, rx) = mpsc::channel();
            up.map_async(wgpu::MapMode::Write, .., move |r| {
                let _ = tx.send(r);
            });
            device
                .poll(wgpu::PollType::Wait {
                    submission_index: None,
                    timeout: None,
                })
                .expect("poll");
            rx.recv().expect("map callback").expect("map");
            map_w.push(t.elapsed());
            let t = Instant::now();
            if run % 2 == 0 {
                // Disjoint views, one per chunk, written in parallel.
                const CHUNK: usize = 1 << 20;
                data.par_chunks(CHUNK).enumerate().for_each(|(k, src)| {
                    let at = (k * CHUNK) as u64;
                    up.slice(at..at + src.len() as u64)
                        .get_mapped_range_mut()
                        .expect("mapped range")
                        .copy_from_slice(src);
                });
                fill.push(t.elapsed());
            } else {
                up.get_mapped_range_mut(..)
                    .expect("mapped range")
                    .copy_from_slice(&data);
                fill1.push(t.elapsed());
            }
            up.unmap();
            let t = Instant::now();
            let mut encoder = device.create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(&up, 0, &storage, 0, n as u64);
            let index = queue.submit([encoder.finish()]);
            wait(&ctx, index);
            copy_up.push(t.elapsed());
        }
        report("upload, kept staging: map", n, map_w);
        report("upload, kept staging: copy in (1 thread)", n, fill1);
        report(&all_threads("upload, kept staging: copy in"), n, fill);
        report("upload, kept staging: GPU copy + wait", n, copy_up);

        let (mut copy_map, mut fresh, mut faulted, mut parallel, mut unmap) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut fresh_par = Vec::new();
        let mut out = vec![0u8; n];
        for _ in 0..RUNS {
            let t = Instant::now();
            let mut encoder = device.create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(&storage, 0, &staging, 0, n as u64);
            let index = queue.submit([encoder.finish()]);
            let (tx, rx) = mpsc::channel();
            staging.map_async(wgpu::MapMode::Read, .., move |r| {
                let _ = tx.send(r);
            });
            wait(&ctx, index);
            rx.recv().expect("map callback").expect("map");
            copy_map.push(t.elapsed());
            {
                let view = staging.get_mapped_range(..).expect("mapped range");
                let t = Instant::now();
                let v = view.to_vec();
                fresh.push(t.elapsed());
                std::hint::black_box(v);
                let t = Instant::now();
                out.copy_from_slice(&view);
                faulted.push(t.elapsed());
                let t = Instant::now();
                out.par_chunks_mut(1 << 20)
                    .zip(view.par_chunks(1 << 20))
                    .for_each(|(o, i)| o.copy_from_slice(i));
                parallel.push(t.elapsed());
            }
            {
                let view = staging.get_mapped_range(..).expect("mapped range");
                let t = Instant::now();
                let mut v = vec![0u8; n];
                v.par_chunks_mut(1 << 20)
                    .zip(view.par_chunks(1 << 20))
                    .for_each(|(o, i)| o.copy_from_slice(i));
                fresh_par.push(t.elapsed());
                std::hint::black_box(v);
            }
            let t = Instant::now();
            staging.unmap();
            unmap.push(t.elapsed());
        }
        report("read-back: GPU copy + map", n, copy_map);
        report("read-back: mapped -> fresh Vec (1 thread)", n, fresh);
        report("read-back: mapped -> written Vec (1 thread)", n, faulted);
        report(
            &all_threads("read-back: mapped -> written Vec"),
            n,
            parallel,
        );
        report(&all_threads("read-back: mapped -> fresh Vec"), n, fresh_par);
        report("read-back: unmap", n, unmap);
        let t = Instant::now();
        std::hint::black_box(vec![0u8; n]);
        let mut alloc = vec![t.elapsed()];
        for _ in 1..RUNS {
            let t = Instant::now();
            let mut v = vec![0u8; n];
            v[..].iter_mut().step_by(4096).for_each(|b| *b = 1);
            std::hint::black_box(v);
            alloc.push(t.elapsed());
        }
        report("host: fresh Vec, every page touched", n, alloc);
    }
}
