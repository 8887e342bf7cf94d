//! Lists the adapters, then measures what a frame costs on the best one:
//! context creation, first dispatch (pipeline compile), and a 1920x1080
//! clamp end to end and on the device.
//!
//! `XDG_RUNTIME_DIR=/tmp cargo run --release -p morph-gpu --example gpu_info`

use std::time::{Duration, Instant};

use morph_core::Image;
use morph_core::params::ClampParams;
use morph_gpu::ops::clamp::{clamp, clamp_on_device};
use morph_gpu::{GpuContext, Preference};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let adapters = GpuContext::enumerate();
    if adapters.is_empty() {
        println!("no GPU adapter found");
        return;
    }
    for a in &adapters {
        println!(
            "adapter: {a}{}",
            if a.hardware { "" } else { " [software]" }
        );
    }
    let created: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            drop(GpuContext::new(Preference::AnyAdapter).expect("context"));
            t.elapsed()
        })
        .collect();
    println!("context creation (median of 5): {}", ms(median(created)));

    let ctx = GpuContext::new(Preference::AnyAdapter).expect("context");
    println!(
        "using {} | f16 {} | timestamps {} | max storage binding {} MiB",
        ctx.adapter_summary(),
        ctx.supports_f16(),
        ctx.supports_timestamps(),
        ctx.max_storage_binding() >> 20
    );
    let (w, h) = (1920, 1080);
    let image = morph_core::Image::from_pixels(
        w,
        h,
        (0..w * h)
            .map(|i| [(i % 977) as f32 / 500.0 - 0.5; 4])
            .collect(),
    );
    let p = ClampParams::default();
    let t = Instant::now();
    clamp(&ctx, &Image::new(16, 16), &p).unwrap();
    println!("first clamp (pipeline compile): {}", ms(t.elapsed()));

    let runs = 10;
    let full: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            clamp(&ctx, &image, &p).unwrap();
            t.elapsed()
        })
        .collect();
    let mut frame = ctx.frame("setup").unwrap();
    let input = frame.upload(&image).unwrap();
    frame.finish().unwrap();
    let mut device_times = Vec::new();
    let kernel: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let mut frame = ctx.frame("kernel").unwrap();
            frame.enable_timing();
            clamp_on_device(&mut frame, &input, &p).unwrap();
            let passes = frame.finish_timed().unwrap();
            device_times.push(passes.iter().map(|p| p.duration).sum());
            t.elapsed()
        })
        .collect();
    let cpu: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            morph_core::ops::clamp::clamp(&image, &p).unwrap();
            t.elapsed()
        })
        .collect();
    println!("clamp {w}x{h}, median of {runs}:");
    println!("  cpu (rayon)                      {}", ms(median(cpu)));
    println!("  gpu upload + kernel + read-back  {}", ms(median(full)));
    println!("  gpu kernel frame (submit + wait) {}", ms(median(kernel)));
    if ctx.supports_timestamps() {
        println!(
            "  gpu passes (timestamps)          {}",
            ms(median(device_times))
        );
    }
}
