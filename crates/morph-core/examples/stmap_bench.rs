//! Times the CPU STMap on the geometry of `benches/benches/stmap.rs` (a 0.9×
//! zoom with a 0.3 rad rotation about the centre, RGBA f32, Repeat Off, no
//! matte), outside criterion, so `benches/opencv_remap_compare.py` can put it
//! beside OpenCV's `remap` in one run.
//!
//! ```text
//! stmap_bench [--size 1920x1080] [--runs N] [FILTER ...]
//! stmap_bench [--size 1920x1080] --serve
//! stmap_bench [--size 256x160] --hash
//! ```
//!
//! - Default: per filter (all of them when none is named), one warm-up call
//!   then N timed calls (default 15) of `stmap()`; prints `FILTER min_ms=
//!   median_ms=` (wall time, output allocation included, as `remap`
//!   allocates its own) and the same for the process's CPU time. A name
//!   `seq:FILTER` times a frame of a sequence instead: a `PreparedStMap`
//!   (its preparation timed once, `prepare_ms=`) applied with the previous
//!   frame's output recycled.
//! - `--serve`: builds the inputs, warms every filter up (both ways), prints `ready`,
//!   then per line read from stdin (a name as above) times one call and prints
//!   `ms=` (wall) and `cpu_ms=`: one warm process per thread count that the comparison script
//!   interleaves with OpenCV.
//! - `--hash`: prints a hash of the output bits for every filter × repeat
//!   mode on several maps (zoom + rotation, identity, 8× zoom-out, 3×
//!   magnification; with and without a matte and extra channels), for
//!   checking that a speed change leaves results bit-identical.
//!
//! Threads: rayon's, set with `RAYON_NUM_THREADS`.
//! Filters: nearest, linear, mitchell, catmull-rom, anisotropic,
//! aniso-linear, ewa, ewa-linear.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::time::Instant;

use morph_core::image::{ExtraChannel, SampleFormat};
use morph_core::ops::stmap::{Geometry, PreparedStMap, StMapInputs, stmap};
use morph_core::params::{RepeatMode, StMapFilter, StMapParams};
use morph_core::test_support::rotation_stmap;
use morph_core::{Image, Result};

const FILTERS: &[(&str, StMapFilter)] = &[
    ("nearest", StMapFilter::Nearest),
    ("linear", StMapFilter::Linear),
    ("mitchell", StMapFilter::MitchellNetravali),
    ("catmull-rom", StMapFilter::CatmullRom),
    ("anisotropic", StMapFilter::Anisotropic),
    ("aniso-linear", StMapFilter::AnisoLinear),
    ("ewa", StMapFilter::Ewa),
    ("ewa-linear", StMapFilter::EwaLinear),
];

const REPEATS: &[RepeatMode] = &[
    RepeatMode::Off,
    RepeatMode::Mirrored,
    RepeatMode::Tiled,
    RepeatMode::Last,
];

/// The identity map, computed in f32 as a user's tool would write it.
fn identity_map(w: u32, h: u32) -> Image {
    let pixels = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            [
                (x as f32 + 0.5) / w as f32,
                (h as f32 - y as f32 - 0.5) / h as f32,
                0.0,
                1.0,
            ]
        })
        .collect();
    Image::from_pixels(w, h, pixels)
}

/// Values in [0, 1) from a seeded hash (splitmix64) of the sample index.
fn noise(seed: u64, n: usize) -> Vec<f32> {
    (0..n as u64)
        .map(|i| {
            let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

fn front(w: u32, h: u32, seed: u64) -> Image {
    let v = noise(seed, w as usize * h as usize * 4);
    let pixels = v
        .chunks_exact(4)
        .map(|p| [p[0], p[1], p[2], p[3]])
        .collect();
    Image::from_pixels(w, h, pixels)
}

fn filter_named(name: &str) -> StMapFilter {
    FILTERS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("unknown filter {name}"))
        .1
}

fn run(front: &Image, map: &Image, matte: Option<&Image>, params: &StMapParams) -> Result<Image> {
    let inputs = StMapInputs {
        front,
        stmap: map,
        matte,
    };
    let out = stmap(&inputs, params)?;
    let mut img = out.result;
    if let Some(m) = out.matte {
        // Fold the matte into the hashed image's extra channels.
        img.extra.push(ExtraChannel {
            name: "matte.R".into(),
            format: SampleFormat::F32,
            data: m.as_flat().to_vec(),
        });
        img.extra.extend(m.extra);
    }
    Ok(img)
}

/// FNV-1a over the bits of every sample.
fn hash(img: &Image) -> u64 {
    let mut h = 0xCBF2_9CE4_8422_2325u64;
    let samples = img
        .as_flat()
        .iter()
        .chain(img.extra.iter().flat_map(|c| &c.data));
    for v in samples {
        for b in v.to_bits().to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01B3);
        }
    }
    h
}

fn print_hashes(w: u32, h: u32) -> Result<()> {
    let f = front(w, h, 1);
    let mut with_extra = front(w, h, 2);
    with_extra.extra.push(ExtraChannel {
        name: "Z".into(),
        format: SampleFormat::F32,
        data: noise(3, (w * h) as usize),
    });
    let matte = front(w, h, 4);
    let maps = [
        ("zoom0.9-rot0.3", rotation_stmap(w, h, 0.3, 0.9)),
        ("identity", identity_map(w, h)),
        ("zoom8-rot0.5", rotation_stmap(w, h, 0.5, 8.0)),
        ("zoom0.33-rot0.2", rotation_stmap(w, h, 0.2, 1.0 / 3.0)),
        ("zoom1.3-rot-1", rotation_stmap(w, h, -1.0, 1.3)),
    ];
    for (map_name, map) in &maps {
        for &(name, filter) in FILTERS {
            for &rx in REPEATS {
                for ry in [rx, RepeatMode::Off] {
                    let params = StMapParams {
                        filter_mode: filter,
                        repeat_x: rx,
                        repeat_y: ry,
                        offset_x: 0.25,
                        ..Default::default()
                    };
                    let plain = hash(&run(&f, map, None, &params)?);
                    let full = hash(&run(&with_extra, map, Some(&matte), &params)?);
                    println!("{map_name} {name} {rx:?}/{ry:?} {plain:016x} {full:016x}");
                }
            }
            let plain = hash(&run(&f, map, None, &params_of(filter))?);
            println!("{map_name} {name} default {plain:016x}");
        }
    }
    Ok(())
}

/// CPU time of every thread of this process so far, in ms (Linux:
/// `/proc/self/task/*/schedstat`, nanosecond resolution); 0 elsewhere.
fn cpu_ms() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .sum::<f64>()
        / 1e6
}

fn params_of(filter: StMapFilter) -> StMapParams {
    StMapParams {
        filter_mode: filter,
        ..Default::default()
    }
}

/// What a timed call does: `NAME` runs `stmap()` (a fresh output, as
/// `remap` allocates one); `seq:NAME` renders one frame of a sequence
/// through a [`PreparedStMap`] (prepared on first use, untimed), writing
/// into the previous frame's output (as `remap` with `dst=`).
struct Bench<'a> {
    front: &'a Image,
    map: &'a Image,
    prepared: HashMap<StMapFilter, PreparedStMap<'a>>,
    recycled: Option<Image>,
}

impl<'a> Bench<'a> {
    fn new(front: &'a Image, map: &'a Image) -> Self {
        Bench {
            front,
            map,
            prepared: HashMap::new(),
            recycled: None,
        }
    }

    /// Prepares `seq:` names (returning the time it took, in ms).
    fn prepare(&mut self, name: &str) -> Result<Option<f64>> {
        let Some(filter) = name.strip_prefix("seq:").map(filter_named) else {
            return Ok(None);
        };
        if self.prepared.contains_key(&filter) {
            return Ok(None);
        }
        let s = Instant::now();
        let prepared = PreparedStMap::new(Geometry::of(self.front), self.map, &params_of(filter))?;
        let ms = s.elapsed().as_secs_f64() * 1e3;
        self.prepared.insert(filter, prepared);
        Ok(Some(ms))
    }

    /// One call, timed: (wall ms, CPU ms of all threads).
    fn time(&mut self, name: &str) -> Result<(f64, f64)> {
        self.prepare(name)?;
        let (s, c) = (Instant::now(), cpu_ms());
        match name.strip_prefix("seq:") {
            Some(f) => {
                let prepared = &self.prepared[&filter_named(f)];
                let out = prepared.apply_reusing(self.front, None, self.recycled.take())?;
                self.recycled = Some(out.result);
            }
            None => drop(run(
                self.front,
                self.map,
                None,
                &params_of(filter_named(name)),
            )?),
        }
        Ok((s.elapsed().as_secs_f64() * 1e3, cpu_ms() - c))
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut w, mut h, mut runs) = (1920u32, 1080u32, 15usize);
    let (mut serve, mut hashes) = (false, false);
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--size" => {
                let v = it.next().expect("--size WxH");
                let (a, b) = v.split_once('x').expect("--size WxH");
                (w, h) = (a.parse().expect("width"), b.parse().expect("height"));
            }
            "--runs" => runs = it.next().expect("--runs N").parse().expect("N"),
            "--serve" => serve = true,
            "--hash" => hashes = true,
            name => names.push(name.to_owned()),
        }
    }
    if hashes {
        return print_hashes(w, h);
    }
    let f = front(w, h, 1);
    let map = rotation_stmap(w, h, 0.3, 0.9);
    let mut bench = Bench::new(&f, &map);
    if serve {
        for &(name, _) in FILTERS {
            bench.time(name)?;
            bench.time(&format!("seq:{name}"))?;
        }
        println!("ready threads={}", rayon::current_num_threads());
        std::io::stdout().flush().expect("stdout");
        for line in std::io::stdin().lock().lines() {
            let (ms, cpu) = bench.time(line.expect("stdin").trim())?;
            println!("ms={ms:.3} cpu_ms={cpu:.3}");
            std::io::stdout().flush().expect("stdout");
        }
        return Ok(());
    }
    if names.is_empty() {
        names = FILTERS.iter().map(|(n, _)| (*n).to_owned()).collect();
    }
    println!(
        "{w}x{h} RGBA f32, {} rayon threads, {runs} runs",
        rayon::current_num_threads()
    );
    for name in &names {
        if let Some(ms) = bench.prepare(name)? {
            println!("{name:12} prepare_ms={ms:.2}");
        }
        bench.time(name)?;
        let (mut t, mut c): (Vec<f64>, Vec<f64>) =
            (0..runs).map(|_| bench.time(name)).collect::<Result<_>>()?;
        t.sort_by(f64::total_cmp);
        c.sort_by(f64::total_cmp);
        let mid = t.len() / 2;
        println!(
            "{name:12} min_ms={:.2} median_ms={:.2} cpu_min_ms={:.2} cpu_median_ms={:.2}",
            t[0], t[mid], c[0], c[mid]
        );
    }
    Ok(())
}
