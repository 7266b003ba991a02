package dev.switchboard.store.sql;

import dev.switchboard.logging.LogThrottle;
import dev.switchboard.store.StoreUnavailableException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: request threads enqueue work and wait on a future; one writer thread takes whatever
 * is waiting (up to {@code maxBatch}), writes it all in one transaction with one sync, and only
 * then completes every future. Under load the batch grows by itself, so the cost of a sync is
 * shared by many requests; when idle a lone request is written at once.
 *
 * <p>Failure policy: if the batch's transaction fails, the whole batch is rolled back and every
 * future in it fails with {@link StoreUnavailableException}; nothing of it stays written, so each
 * sender's retry is treated as new. A batch write may instead answer an item {@link Refused} (it
 * wrote the others without it): that item's future alone fails. A full queue fails the request at
 * once rather than letting it wait behind a store that cannot keep up.
 *
 * @param <W> one unit of work
 * @param <R> its result
 */
final class GroupCommitWriter<W, R> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GroupCommitWriter.class);

  /** During an outage every batch fails: one line, then one every few seconds with a count. */
  private final LogThrottle failuresLog = new LogThrottle(java.time.Duration.ofSeconds(5));

  /**
   * Writes a batch in one transaction; returns one result per item, in order, or throws. A result
   * may be {@link Refused}: that item alone was not written.
   */
  interface BatchWrite<W, R> {
    List<R> write(List<W> batch) throws Exception;
  }

  /** The result of an item that was not written while the others of its batch were. */
  record Refused(Throwable cause) {}

  /** Items refused alone: one line, then one every few seconds with a count. */
  private final LogThrottle refusalsLog = new LogThrottle(java.time.Duration.ofSeconds(5));

  private record Pending<W, R>(W work, CompletableFuture<R> result, long bytes) {}

  private final BlockingQueue<Pending<W, R>> queue;

  /** What each item is reckoned to hold in memory, in bytes, while it waits. */
  private final ToLongFunction<W> weight;

  /** The most the waiting items may hold together (one item alone may hold more). */
  private final long maxBytes;

  /** What the waiting items hold together. */
  private final AtomicLong queuedBytes = new AtomicLong();

  private final int maxBatch;
  private final BatchWrite<W, R> batchWrite;
  private final IntConsumer batchSizeObserver;
  private final Thread thread;
  private volatile boolean closing;

  GroupCommitWriter(
      String name,
      int queueCapacity,
      long maxBytes,
      ToLongFunction<W> weight,
      int maxBatch,
      BatchWrite<W, R> batchWrite,
      IntConsumer batchSizeObserver) {
    this.queue = new ArrayBlockingQueue<>(queueCapacity);
    this.maxBytes = maxBytes;
    this.weight = weight;
    this.maxBatch = maxBatch;
    this.batchWrite = batchWrite;
    this.batchSizeObserver = batchSizeObserver;
    this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
    thread.start();
  }

  /**
   * Queues {@code work} for the next batch. Refused (the future fails at once) while closing, when
   * the queue is full by count, and when an item that weighs something would take the waiting items
   * past {@link #maxBytes}: they are bounded in memory whatever the bodies' sizes, and a refused
   * ingest is answered 503 and never acknowledged. Items that weigh 0 are not refused by bytes (a
   * delivery's claim or outcome must not wait behind bodies).
   */
  CompletableFuture<R> submit(W work) {
    CompletableFuture<R> result = new CompletableFuture<>();
    if (closing) {
      result.completeExceptionally(new StoreUnavailableException("store is closing", null));
      return result;
    }
    long bytes = weight.applyAsLong(work);
    long held = queuedBytes.addAndGet(bytes);
    boolean overBytes = bytes > 0 && held > maxBytes && held != bytes;
    if (overBytes || !queue.offer(new Pending<>(work, result, bytes))) {
      queuedBytes.addAndGet(-bytes);
      result.completeExceptionally(
          new StoreUnavailableException("store write queue is full", null));
    }
    return result;
  }

  /** What the waiting items hold together, in bytes. */
  long waitingBytes() {
    return queuedBytes.get();
  }

  int waiting() {
    return queue.size();
  }

  private void run() {
    List<Pending<W, R>> batch = new ArrayList<>(maxBatch);
    while (!(closing && queue.isEmpty())) {
      try {
        Pending<W, R> first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, maxBatch - 1);
        long taken = 0;
        for (Pending<W, R> p : batch) {
          taken += p.bytes();
        }
        queuedBytes.addAndGet(-taken);
        writeBatch(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } finally {
        batch.clear();
      }
    }
    failRemaining();
  }

  private void writeBatch(List<Pending<W, R>> batch) {
    // a request that already gave up waiting (and answered 503) must not be written after all
    batch.removeIf(p -> p.result().isDone());
    if (batch.isEmpty()) {
      return;
    }
    List<W> work = new ArrayList<>(batch.size());
    for (Pending<W, R> p : batch) {
      work.add(p.work());
    }
    List<R> results;
    try {
      results = batchWrite.write(work);
    } catch (Exception | Error e) {
      int size = batch.size();
      String why = SqlWriter.describe(e);
      failuresLog.log(
          skipped ->
              LOG.warn(
                  "group commit of {} item(s) failed: {}{}", size, why, LogThrottle.more(skipped)));
      StoreUnavailableException failure =
          new StoreUnavailableException("store write failed: " + why, e);
      batch.forEach(p -> p.result().completeExceptionally(failure));
      return;
    }
    // the batch is observed before any requester hears of its outcome (the metric and the tests
    // that read it then see every batch that answered)
    int refused = 0;
    for (R result : results) {
      if (result instanceof Refused) {
        refused++;
      }
    }
    if (refused < batch.size()) {
      batchSizeObserver.accept(batch.size() - refused);
    }
    for (int i = 0; i < batch.size(); i++) {
      if (results.get(i) instanceof Refused r) {
        String why =
            r.cause() instanceof java.sql.SQLException sql
                ? SqlWriter.describe(sql)
                : r.cause().getClass().getName();
        refusalsLog.log(
            skipped ->
                LOG.warn(
                    "the store refused one write ({}); the rest of its batch was written{}",
                    why,
                    LogThrottle.more(skipped)));
        batch
            .get(i)
            .result()
            .completeExceptionally(
                new StoreUnavailableException(
                    "the store refused this write (" + why + ")", r.cause()));
      } else {
        batch.get(i).result().complete(results.get(i));
      }
    }
  }

  private void failRemaining() {
    List<Pending<W, R>> rest = new ArrayList<>();
    queue.drainTo(rest);
    rest.forEach(p -> queuedBytes.addAndGet(-p.bytes()));
    StoreUnavailableException failure = new StoreUnavailableException("store is closed", null);
    rest.forEach(p -> p.result().completeExceptionally(failure));
  }

  /** Stops taking work, writes what was already queued, then stops the thread. */
  @Override
  public void close() {
    closing = true;
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    failRemaining();
  }
}
