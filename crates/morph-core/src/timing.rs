//! Which input frames, and which time between them, each output frame of a
//! retime or a Morph transition shows. Pure arithmetic over frame numbers,
//! shared by the library and the CLI.

use crate::error::{Error, Result};
use crate::params::{MorphParams, RangeMode};

/// Where an output frame samples its input: between frames `a` and `b` at
/// time `t` (0 = `a`, 1 = `b`). On an input frame, `a == b` and `t = 0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// The earlier frame (Front).
    pub a: i64,
    /// The later frame (Back).
    pub b: i64,
    /// Time between them, `0 ≤ t < 1`.
    pub t: f32,
}

impl Sample {
    /// True when the output is an input frame as it is.
    pub fn is_exact(&self) -> bool {
        self.t == 0.0
    }
}

/// Distance below which an input time counts as landing on a frame
/// (accumulated float error of `k · speed`).
const SNAP: f64 = 1e-6;

/// A retime of one clip.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Retime {
    /// Slow motion: `N − 1` in-betweens per input pair (speed `1/N`).
    Factor(u32),
    /// Output frame `k` shows input time `first + k·speed` (0.5 = half
    /// speed, 2 = double speed).
    Speed(f64),
    /// Frame-rate conversion keeping the duration: speed `from/to`.
    Fps {
        /// Source frame rate.
        from: f64,
        /// Target frame rate.
        to: f64,
    },
}

impl Retime {
    /// Rejects a factor outside 1..=1000, a speed outside (0, 1000] and
    /// frame rates outside (0, 1000].
    pub fn validate(&self) -> Result<()> {
        match *self {
            Retime::Factor(n) => crate::params::check_range("factor", n, 1..=1000),
            Retime::Speed(s) => positive("speed", s),
            Retime::Fps { from, to } => {
                positive("fps_from", from)?;
                positive("fps_to", to)
            }
        }
    }

    /// Input frames per output frame.
    pub fn speed(&self) -> f64 {
        match *self {
            Retime::Factor(n) => 1.0 / n as f64,
            Retime::Speed(s) => s,
            Retime::Fps { from, to } => from / to,
        }
    }

    /// The input time of output frame `k` (counted from 0) of a clip
    /// starting at `first`. Computed from `k` directly (no accumulation),
    /// and as a fraction for factors and frame rates so that input frames
    /// are hit exactly.
    pub fn input_time(&self, first: i64, k: u64) -> f64 {
        let offset = match *self {
            Retime::Factor(n) => k as f64 / n as f64,
            Retime::Speed(s) => k as f64 * s,
            Retime::Fps { from, to } => k as f64 * from / to,
        };
        let s = first as f64 + offset;
        let r = s.round();
        if (s - r).abs() < SNAP { r } else { s }
    }

    /// Input times of every output frame of a clip `first..=last`: from
    /// `first` while the time stays within `last` (so a factor `N` gives
    /// `(last − first)·N + 1` frames and a frame-rate conversion keeps the
    /// clip's duration).
    ///
    /// # Errors
    /// Invalid settings, `last < first`, or more than 10 million output
    /// frames.
    pub fn plan(&self, first: i64, last: i64) -> Result<Vec<f64>> {
        self.validate()?;
        if last < first {
            return Err(Error::parameter(
                "frames",
                format!("{first}..{last}"),
                "a clip whose last frame is not before its first",
            ));
        }
        let count = ((last - first) as f64 / self.speed() + SNAP).floor() + 1.0;
        if count > 1e7 {
            return Err(Error::parameter(
                "speed",
                self.speed(),
                format!("a speed giving at most 10 million output frames (this gives {count})"),
            ));
        }
        Ok((0..count as u64)
            .map(|k| self.input_time(first, k))
            .collect())
    }
}

fn positive(attribute: &'static str, v: f64) -> Result<()> {
    if !(v > 0.0 && v <= 1000.0) {
        return Err(Error::parameter(attribute, v, "a number in (0, 1000]"));
    }
    Ok(())
}

/// The pair of frames of `frames` (sorted, ascending, no duplicates)
/// around input time `s` and the time between them. Times before the
/// first frame or after the last give that frame exactly.
///
/// # Panics
/// If `frames` is empty.
pub fn sample_at(frames: &[i64], s: f64) -> Sample {
    let first = *frames.first().expect("at least one frame");
    let last = *frames.last().expect("at least one frame");
    let exact = |f| Sample { a: f, b: f, t: 0.0 };
    if s <= first as f64 {
        return exact(first);
    }
    if s >= last as f64 {
        return exact(last);
    }
    // First frame after s.
    let i = frames.partition_point(|&f| (f as f64) <= s);
    let (a, b) = (frames[i - 1], frames[i]);
    if (s - a as f64).abs() < SNAP {
        return exact(a);
    }
    Sample {
        a,
        b,
        t: ((s - a as f64) / (b - a) as f64) as f32,
    }
}

/// What one output frame of a Morph transition shows: clip A's frame `a`,
/// clip B's frame `b`, at time `t` (0 = A, 1 = B).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MorphFrame {
    /// Frame of clip A (Front).
    pub a: i64,
    /// Frame of clip B (Back).
    pub b: i64,
    /// Position of the in-between, `mix/100`.
    pub t: f32,
}

impl MorphParams {
    /// The range the transition spans: the custom range, or the whole
    /// `clip` (`All Frames`).
    pub fn transition_range(&self, clip: (i64, i64)) -> (i64, i64) {
        match self.range_mode {
            RangeMode::AllFrames => clip,
            RangeMode::CustomRange => (self.range_first_frame, self.range_last_frame),
        }
    }

    /// What output `frame` shows for a batch over `clip` (first, last):
    /// - before the range, A's frame as it is (t = 0); after it, B's (t = 1);
    /// - inside, t = mix(frame)/100 between A's frame (or A's range-start
    ///   frame with `freeze_first_frame`) and B's frame (or B's range-end
    ///   frame with `freeze_last_frame`).
    pub fn frame_at(&self, frame: i64, clip: (i64, i64)) -> MorphFrame {
        let (first, last) = self.transition_range(clip);
        if frame < first {
            return MorphFrame {
                a: frame,
                b: frame,
                t: 0.0,
            };
        }
        if frame > last {
            return MorphFrame {
                a: frame,
                b: frame,
                t: 1.0,
            };
        }
        MorphFrame {
            a: if self.freeze_first_frame {
                first
            } else {
                frame
            },
            b: if self.freeze_last_frame { last } else { frame },
            t: self.mix.at(frame) / 100.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Mix;

    #[test]
    fn factor_gives_n_minus_one_in_betweens_per_pair() {
        let times = Retime::Factor(4).plan(1001, 1008).unwrap();
        assert_eq!(times.len(), 7 * 4 + 1);
        assert_eq!(times[0], 1001.0);
        assert_eq!(times[4], 1002.0);
        assert_eq!(times[28], 1008.0);
        assert_eq!(times[1], 1001.25);
        let frames: Vec<i64> = (1001..=1008).collect();
        let s = sample_at(&frames, times[6]);
        assert_eq!((s.a, s.b, s.t), (1002, 1003, 0.5));
        assert!(sample_at(&frames, times[8]).is_exact());
    }

    #[test]
    fn speed_samples_k_times_speed() {
        let times = Retime::Speed(0.4).plan(0, 4).unwrap();
        assert_eq!(times.len(), 11);
        for (k, s) in times.iter().enumerate() {
            assert!((s - 0.4 * k as f64).abs() < 1e-9, "{k}: {s}");
        }
        // Input frames are hit exactly every 5 outputs.
        assert_eq!(times[5], 2.0);
        // Faster than real time drops frames.
        assert_eq!(
            Retime::Speed(2.0).plan(1, 10).unwrap(),
            vec![1.0, 3.0, 5.0, 7.0, 9.0]
        );
    }

    #[test]
    fn fps_conversion_keeps_the_duration() {
        // 24 → 60: 2.5 outputs per input frame; 1 s of input (24 frames,
        // 23 intervals) becomes 23·2.5 + 1 = 58.5 → 58 frames.
        let r = Retime::Fps {
            from: 24.0,
            to: 60.0,
        };
        let times = r.plan(1, 24).unwrap();
        assert_eq!(times.len(), 58);
        assert_eq!(times[5], 3.0);
        assert!((times[1] - 1.4).abs() < 1e-12);
        // 30 → 24 drops to 4/5.
        let times = Retime::Fps {
            from: 30.0,
            to: 24.0,
        }
        .plan(0, 30)
        .unwrap();
        assert_eq!(times.len(), 25);
        assert_eq!(times[24], 30.0);
    }

    #[test]
    fn bad_retime_settings_are_named() {
        let e = Retime::Factor(0).validate().unwrap_err().to_string();
        assert!(e.contains("factor") && e.contains("1..=1000"), "{e}");
        let e = Retime::Speed(-1.0).plan(1, 2).unwrap_err().to_string();
        assert!(e.contains("speed"), "{e}");
        let e = Retime::Fps {
            from: 24.0,
            to: 0.0,
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("fps_to"), "{e}");
        let e = Retime::Speed(f64::NAN).validate().unwrap_err().to_string();
        assert!(e.contains("speed"), "{e}");
    }

    #[test]
    fn sample_spans_gaps_and_clamps_at_the_ends() {
        let frames = [10, 11, 14];
        assert_eq!(
            sample_at(&frames, 12.5),
            Sample {
                a: 11,
                b: 14,
                t: 0.5
            }
        );
        assert_eq!(
            sample_at(&frames, 9.0),
            Sample {
                a: 10,
                b: 10,
                t: 0.0
            }
        );
        assert_eq!(
            sample_at(&frames, 20.0),
            Sample {
                a: 14,
                b: 14,
                t: 0.0
            }
        );
        assert_eq!(
            sample_at(&frames, 11.0),
            Sample {
                a: 11,
                b: 11,
                t: 0.0
            }
        );
    }

    #[test]
    fn morph_range_mix_and_freeze_frame_by_frame() {
        let mut p = MorphParams {
            range_mode: RangeMode::CustomRange,
            range_first_frame: 1005,
            range_last_frame: 1009,
            ..Default::default()
        };
        p.set_mix_to_range();
        let clip = (1001, 1012);
        let got: Vec<MorphFrame> = (1001..=1012).map(|f| p.frame_at(f, clip)).collect();
        // Before the range: A as it is; after: B.
        assert_eq!(
            got[0],
            MorphFrame {
                a: 1001,
                b: 1001,
                t: 0.0
            }
        );
        assert_eq!(
            got[11],
            MorphFrame {
                a: 1012,
                b: 1012,
                t: 1.0
            }
        );
        // Inside: 0, 25, 50, 75, 100 %.
        let ts: Vec<f32> = got[4..9].iter().map(|m| m.t).collect();
        assert_eq!(ts, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!((got[6].a, got[6].b), (1007, 1007));
        p.freeze_first_frame = true;
        p.freeze_last_frame = true;
        assert_eq!(
            p.frame_at(1007, clip),
            MorphFrame {
                a: 1005,
                b: 1009,
                t: 0.5
            }
        );
        p.freeze_last_frame = false;
        assert_eq!(
            p.frame_at(1008, clip),
            MorphFrame {
                a: 1005,
                b: 1008,
                t: 0.75
            }
        );
        // Outside the range freezing does not apply.
        assert_eq!(p.frame_at(1003, clip).a, 1003);
    }

    #[test]
    fn all_frames_spans_the_clip_and_constant_mix_holds() {
        let p = MorphParams {
            mix: Mix::Constant(30.0),
            ..Default::default()
        };
        for f in 1..=5 {
            assert_eq!(p.frame_at(f, (1, 5)), MorphFrame { a: f, b: f, t: 0.3 });
        }
        let mut keyed = p.clone();
        keyed.mix = Mix::Keys(vec![(2, 0.0), (4, 100.0)]);
        assert_eq!(keyed.frame_at(1, (1, 5)).t, 0.0);
        assert_eq!(keyed.frame_at(3, (1, 5)).t, 0.5);
        assert_eq!(keyed.frame_at(5, (1, 5)).t, 1.0);
    }
}
