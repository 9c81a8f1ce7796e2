//! The race harness: every entrant runs interleaved in one process, the
//! order rotated each round, and the minimum over rounds is kept for each
//! metric. One entrant can be timed twice per round (the control): the gap
//! between its two minimums is the noise of this machine for this
//! workload, printed next to the results.

/// An entrant's run: returns one number per metric (seconds or bytes);
/// lower is better.
type Run<'a> = Box<dyn FnMut() -> Vec<f64> + 'a>;

/// A race being set up.
#[derive(Default)]
pub struct Race<'a> {
    names: Vec<String>,
    runs: Vec<Run<'a>>,
    control: Option<usize>,
    warm_up: bool,
}

impl<'a> Race<'a> {
    /// An empty race.
    pub fn new() -> Self {
        Race::default()
    }

    /// Adds an entrant; returns its index in the [`Standings`].
    pub fn enter(&mut self, name: impl Into<String>, run: impl FnMut() -> Vec<f64> + 'a) -> usize {
        self.names.push(name.into());
        self.runs.push(Box::new(run));
        self.names.len() - 1
    }

    /// Times entrant `index` twice in every round, in two separate slots of
    /// the rotation: the same code timed twice.
    pub fn control(&mut self, index: usize) -> &mut Self {
        assert!(index < self.runs.len(), "control {index} is not an entrant");
        self.control = Some(index);
        self
    }

    /// Runs every entrant once, untimed, before the rounds.
    pub fn warm_up(&mut self) -> &mut Self {
        self.warm_up = true;
        self
    }

    /// Runs `rounds` rounds (at least one). In round `r` the slots (every
    /// entrant, plus the control's second slot) run in order starting at
    /// slot `r`, so no entrant always follows the same other one.
    pub fn run(mut self, rounds: usize) -> Standings {
        let entrants = self.runs.len();
        let slots = entrants + usize::from(self.control.is_some());
        let mut best: Vec<Vec<f64>> = vec![Vec::new(); slots];
        if self.warm_up {
            for run in &mut self.runs {
                run();
            }
        }
        for round in 0..rounds.max(1) {
            for i in 0..slots {
                let slot = (round + i) % slots;
                let entrant = if slot < entrants {
                    slot
                } else {
                    self.control.expect("a control slot exists")
                };
                let sample = (self.runs[entrant])();
                let kept = &mut best[slot];
                if kept.is_empty() {
                    *kept = sample;
                } else {
                    assert_eq!(kept.len(), sample.len(), "a run changed its metric count");
                    for (k, s) in kept.iter_mut().zip(sample) {
                        *k = k.min(s);
                    }
                }
            }
        }
        let control = self.control.map(|of| Control {
            of,
            best: best.pop().expect("the control slot is last"),
        });
        Standings {
            names: self.names,
            best,
            control,
        }
    }
}

/// The result of a race: per entrant, the minimum of each metric over the
/// rounds.
#[derive(Clone, Debug)]
pub struct Standings {
    /// Entrant names, in entry order.
    pub names: Vec<String>,
    /// `best[entrant][metric]`.
    pub best: Vec<Vec<f64>>,
    /// The control's second timing, if there was one.
    pub control: Option<Control>,
}

/// The second timing of the control entrant.
#[derive(Clone, Debug)]
pub struct Control {
    /// Which entrant was timed twice.
    pub of: usize,
    /// Its second slot's minimum of each metric.
    pub best: Vec<f64>,
}

impl Standings {
    /// Entrant `index`'s minimum of `metric`.
    pub fn value(&self, index: usize, metric: usize) -> f64 {
        self.best[index][metric]
    }

    /// The index of the entrant named `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The entrant with the lowest `metric` among `among` (all if empty).
    pub fn fastest(&self, metric: usize, among: &[usize]) -> usize {
        let all: Vec<usize> = (0..self.names.len()).collect();
        let among = if among.is_empty() { &all[..] } else { among };
        *among
            .iter()
            .min_by(|&&a, &&b| self.value(a, metric).total_cmp(&self.value(b, metric)))
            .expect("at least one entrant")
    }

    /// The control's two timings of `metric`, larger over smaller (1.0 =
    /// no noise); `None` without a control.
    pub fn spread(&self, metric: usize) -> Option<f64> {
        let control = self.control.as_ref()?;
        let a = self.value(control.of, metric);
        let b = control.best[metric];
        Some(a.max(b) / a.min(b).max(f64::MIN_POSITIVE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn keeps_the_minimum_rotates_and_times_the_control_twice() {
        let calls = Cell::new(0u32);
        let order = std::cell::RefCell::new(Vec::new());
        let mut race = Race::new();
        let a = race.enter("a", || {
            calls.set(calls.get() + 1);
            order.borrow_mut().push('a');
            vec![10.0 - f64::from(calls.get()), 5.0]
        });
        let b = race.enter("b", || {
            order.borrow_mut().push('b');
            vec![3.0, 7.0]
        });
        race.control(a);
        let standings = race.run(3);
        // Three rounds of three slots; `a` runs twice a round.
        assert_eq!(calls.get(), 6);
        // Round 0: a b a'; round 1: b a' a; round 2: a' a b.
        assert_eq!(order.borrow().iter().collect::<String>(), "ababaaaab");
        assert_eq!(standings.value(b, 0), 3.0);
        assert_eq!(standings.fastest(0, &[]), b);
        assert_eq!(standings.fastest(1, &[]), a);
        assert!(standings.spread(1) == Some(1.0));
        assert!(standings.spread(0).unwrap() > 1.0);
    }
}
