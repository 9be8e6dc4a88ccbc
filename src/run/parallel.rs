//! The parallel engine: one thread cuts the stream into chunks, `threads` workers run
//! [`check_chunk`] on them (the serial engine's worker) into buffers of their own, and the calling
//! thread writes the buffers back in input order. At most [`in_flight`] chunks exist at once, so
//! memory does not grow with the input. The calling thread flushes whenever it has nothing to
//! write, so a slow stream's results appear as they are checked.

use super::check_chunk;
use crate::input::lines::{Chunk, Chunker, Lines, Recycler};
use crate::judge::{Checker, Policy};
use crate::report::{Printer, Summary, Tally};
use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};

/// Chunks read and not yet written: the bound on memory (5 on two cores: one being read, and per
/// worker one being checked and one done early, waiting for its turn; each at most a chunk, or
/// one line up to the limit, and its results).
pub fn in_flight(workers: usize) -> usize {
    2 * workers + 1
}

/// A chunk and its place in the stream.
struct Work {
    seq: usize,
    chunk: Chunk,
}

/// A chunk checked and rendered.
struct Done {
    seq: usize,
    rendered: Vec<u8>,
    tally: Tally,
    summary: Option<Summary>,
}

/// Checks the stream's chunks until it ends or a chunk may open a JSON wrapper (put back for the
/// serial engine). Reads in one thread, checks in the workers, writes here (the printer's writer
/// may not leave this thread: stdout's lock).
pub fn run<R: Read + Send, W: Write>(
    chunks: &mut Chunker<R>,
    name: &str,
    workers: usize,
    policy: &Policy,
    printer: &mut Printer<W>,
) -> io::Result<()> {
    let template = printer.sibling(Vec::new());
    let (work_tx, work_rx) = bounded::<Work>(workers);
    let (done_tx, done_rx) = bounded::<Done>(in_flight(workers));
    // One permit per chunk in flight: the reader takes one per chunk, the writer gives it back.
    let (permit_tx, permit_rx) = bounded::<()>(in_flight(workers));
    for _ in 0..in_flight(workers) {
        let _ = permit_tx.send(());
    }
    let (spare_tx, spare_rx) = bounded::<Vec<u8>>(in_flight(workers));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (work_rx, done_tx, spare_rx, template, recycler) =
                (work_rx.clone(), done_tx.clone(), spare_rx.clone(), &template, chunks.recycler());
            scope.spawn(move || work(name, policy, &work_rx, &done_tx, &spare_rx, template, &recycler));
        }
        drop((done_tx, work_rx));
        scope.spawn(move || read(chunks, &work_tx, &permit_rx));
        // Returning drops the writer's ends of the channels, which stops the workers and the reader.
        write_in_order(done_rx, permit_tx, spare_tx, printer)
    })
}

/// Hands the stream's chunks out in order, while permits last.
fn read<R: Read>(chunks: &mut Chunker<R>, work: &Sender<Work>, permits: &Receiver<()>) {
    let mut seq = 0;
    while let Some(chunk) = chunks.next_chunk() {
        if chunk.needs_order() {
            chunks.put_back(chunk);
            return;
        }
        if permits.recv().is_err() || work.send(Work { seq, chunk }).is_err() {
            return; // the writer stopped (a closed stdout)
        }
        seq += 1;
    }
}

/// A worker: checks chunks and renders them until there are none.
fn work(
    name: &str,
    policy: &Policy,
    work: &Receiver<Work>,
    done: &Sender<Done>,
    spare: &Receiver<Vec<u8>>,
    template: &Printer<Vec<u8>>,
    recycler: &Recycler,
) {
    let mut checker = Checker::new();
    let mut lines = Lines::new(name, 0);
    for Work { seq, chunk } in work {
        let rendered = spare.try_recv().unwrap_or_default();
        let mut printer = template.sibling(rendered);
        // Writing to a Vec does not fail.
        let _ = check_chunk(&mut lines, &chunk, &mut checker, policy, &mut printer);
        recycler.give(chunk);
        let summary = printer.take_summary();
        let (rendered, tally) = printer.into_parts();
        if done.send(Done { seq, rendered, tally, summary }).is_err() {
            return;
        }
    }
}

/// The writer: puts chunks back in order, hands their permits and buffers back, and flushes
/// before it waits.
fn write_in_order<W: Write>(
    done: Receiver<Done>,
    permits: Sender<()>,
    spare: Sender<Vec<u8>>,
    printer: &mut Printer<W>,
) -> io::Result<()> {
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    loop {
        let chunk = match done.try_recv() {
            Ok(chunk) => chunk,
            Err(TryRecvError::Disconnected) => return Ok(()),
            Err(TryRecvError::Empty) => {
                printer.flush()?;
                match done.recv() {
                    Ok(chunk) => chunk,
                    Err(_) => return Ok(()),
                }
            }
        };
        waiting.insert(chunk.seq, chunk);
        while let Some(chunk) = waiting.remove(&next) {
            printer.merge_summary(chunk.summary);
            printer.append(&chunk.rendered, chunk.tally)?;
            next += 1;
            let _ = permits.try_send(());
            let mut rendered = chunk.rendered;
            rendered.clear();
            let _ = spare.try_send(rendered);
        }
    }
}

/// The same scheduling for any per-chunk work (`scan`'s search): the reader hands chunks out in
/// order while permits last, `workers` threads run `work` on them, and `write` gets each result
/// here, in stream order, with at most [`in_flight`] chunks existing at once. `idle` runs whenever
/// the writer is about to wait (flush there). A `write` error stops the run.
pub fn map_in_order<R, T, F>(
    chunks: &mut Chunker<R>,
    workers: usize,
    work: F,
    mut write: impl FnMut(T) -> io::Result<()>,
    mut idle: impl FnMut() -> io::Result<()>,
) -> io::Result<()>
where
    R: Read + Send,
    T: Send,
    F: Fn(&Chunk) -> T + Sync,
{
    let (work_tx, work_rx) = bounded::<Work>(workers);
    let (done_tx, done_rx) = bounded::<(usize, T)>(in_flight(workers));
    let (permit_tx, permit_rx) = bounded::<()>(in_flight(workers));
    for _ in 0..in_flight(workers) {
        let _ = permit_tx.send(());
    }
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (work_rx, done_tx, recycler, work) = (work_rx.clone(), done_tx.clone(), chunks.recycler(), &work);
            scope.spawn(move || {
                for Work { seq, chunk } in work_rx {
                    let result = work(&chunk);
                    recycler.give(chunk);
                    if done_tx.send((seq, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop((done_tx, work_rx));
        scope.spawn(move || {
            let mut seq = 0;
            while let Some(chunk) = chunks.next_chunk() {
                if permit_rx.recv().is_err() || work_tx.send(Work { seq, chunk }).is_err() {
                    return;
                }
                seq += 1;
            }
        });
        // Owning the writer's ends: returning drops them, which stops the workers and the reader.
        let mut writer = move || -> io::Result<()> {
            let mut waiting = BTreeMap::new();
            let mut next = 0;
            loop {
                let (seq, result) = match done_rx.try_recv() {
                    Ok(done) => done,
                    Err(TryRecvError::Disconnected) => return Ok(()),
                    Err(TryRecvError::Empty) => {
                        idle()?;
                        match done_rx.recv() {
                            Ok(done) => done,
                            Err(_) => return Ok(()),
                        }
                    }
                };
                waiting.insert(seq, result);
                while let Some(result) = waiting.remove(&next) {
                    write(result)?;
                    next += 1;
                    let _ = permit_tx.try_send(());
                }
            }
        };
        writer()
    })
}
