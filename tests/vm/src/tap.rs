//! A minimal TAP 13 producer: runs test functions in order and reports each.

/// The outcome of one test: `Err` carries the reason shown to the reader.
pub type Outcome = Result<(), String>;

/// One named test.
#[derive(Clone, Copy)]
pub struct Test {
    pub name: &'static str,
    pub run: fn() -> Outcome,
}

/// Runs `tests`, prints TAP on stdout and returns the number of failures.
pub fn run(tests: &[Test]) -> usize {
    println!("TAP version 13");
    println!("1..{}", tests.len());
    let mut failed = 0;
    for (i, t) in tests.iter().enumerate() {
        match (t.run)() {
            Ok(()) => println!("ok {} - {}", i + 1, t.name),
            Err(why) => {
                failed += 1;
                println!("not ok {} - {}", i + 1, t.name);
                for line in why.lines() {
                    println!("# {line}");
                }
            }
        }
    }
    failed
}

/// Fails with `what` unless `cond` holds.
pub fn check(cond: bool, what: impl FnOnce() -> String) -> Outcome {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass() -> Outcome {
        Ok(())
    }

    fn fail() -> Outcome {
        Err("reason\non two lines".into())
    }

    #[test]
    fn run_counts_failures() {
        let tests = [
            Test {
                name: "a",
                run: pass,
            },
            Test {
                name: "b",
                run: fail,
            },
            Test {
                name: "c",
                run: fail,
            },
        ];
        assert_eq!(run(&tests), 2);
        assert_eq!(run(&tests[..1]), 0);
    }

    #[test]
    fn check_reports_the_reason_only_on_failure() {
        assert_eq!(check(true, || unreachable!()), Ok(()));
        assert_eq!(check(false, || "why".into()), Err("why".to_string()));
    }
}
