//! Threads for work a run does not wait for (hashing a parsed file, writing
//! its cache entry), started at a lower scheduling priority.
//!
//! They run beside the run's own thread. With more runnable threads than
//! cores, the kernel shares the cores evenly, so two of them beside the run
//! on two cores slow the run by a third, although the run is what the user
//! waits for and they can finish after it (the process waits for them at
//! its end). At a lower priority they take what the run leaves.
//!
//! Someone does wait for them at times: the next file's cache write waits
//! for the one before (`loader::CacheWrites`), and a run's manifest waits
//! for the hash. The waiting thread is idle then, so unless other work
//! keeps every core busy, the lowered thread has a core to itself; nice
//! only decides who runs when threads compete.

use std::io;
use std::thread::{self, JoinHandle};

/// The nice value of a background thread: far enough above the default 0
/// that a run's thread gets nearly all of a core it shares with one (the
/// kernel weighs nice 10 at about a tenth of nice 0), yet not idle-only, so
/// the work still moves on a machine that is busy with other processes.
#[cfg(target_os = "linux")]
const BACKGROUND_NICE: i32 = 10;

/// Starts `work` on a thread named `name` at background priority.
///
/// # Errors
/// No thread could be started.
pub(crate) fn spawn<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    thread::Builder::new().name(name.to_owned()).spawn(move || {
        lower_own_priority();
        work()
    })
}

/// Lowers the calling thread's priority to nice `BACKGROUND_NICE`, unless it
/// is lower already (a process started with `nice 19` keeps 19: even as
/// root, this never raises it). On Linux the nice value is a thread's own
/// (`setpriority` and `getpriority` with `who` 0 name the calling thread);
/// elsewhere it is the whole process's, so nothing is changed there.
/// Raising one's own nice value needs no privilege; a failure only leaves
/// the priority as it was.
fn lower_own_priority() {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // SAFETY: neither call reads or writes memory of ours; PRIO_PROCESS with
    // who 0 is the calling thread on Linux.
    unsafe {
        if libc::getpriority(libc::PRIO_PROCESS, 0) < BACKGROUND_NICE {
            libc::setpriority(libc::PRIO_PROCESS, 0, BACKGROUND_NICE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_a_named_thread_and_gives_its_result() {
        let handle = spawn("background-test", || thread::current().name().map(str::to_owned)).expect("a thread");
        assert_eq!(handle.join().expect("no panic"), Some("background-test".to_owned()));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_thread_is_lowered_and_its_spawner_is_not() {
        // SAFETY: getpriority reads no memory of ours; who 0 is the calling thread.
        #[allow(unsafe_code)]
        let nice_here = || unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let before = nice_here();
        let inside = spawn("background-test", nice_here).expect("a thread").join().expect("no panic");
        assert_eq!(inside, BACKGROUND_NICE.max(before), "the background thread's nice value");
        assert_eq!(nice_here(), before, "the spawning thread keeps its priority");
    }
}
