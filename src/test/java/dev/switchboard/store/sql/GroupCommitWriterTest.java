package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GroupCommitWriterTest {

  @Test
  void workWhoseRequesterGaveUpIsNeverWritten() throws Exception {
    CountDownLatch firstBatchStarted = new CountDownLatch(1);
    CountDownLatch releaseFirstBatch = new CountDownLatch(1);
    List<String> written = new CopyOnWriteArrayList<>();
    try (GroupCommitWriter<String, String> writer =
        new GroupCommitWriter<>(
            "test-writer",
            100,
            Long.MAX_VALUE,
            w -> 1,
            10,
            batch -> {
              if (batch.contains("first")) {
                firstBatchStarted.countDown();
                releaseFirstBatch.await(10, TimeUnit.SECONDS);
              }
              written.addAll(batch);
              return new ArrayList<>(batch);
            },
            n -> {})) {
      CompletableFuture<String> first = writer.submit("first");
      assertThat(firstBatchStarted.await(10, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<String> abandoned = writer.submit("abandoned");
      CompletableFuture<String> kept = writer.submit("kept");
      abandoned.cancel(false);
      releaseFirstBatch.countDown();
      assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("first");
      assertThat(kept.get(10, TimeUnit.SECONDS)).isEqualTo("kept");
      assertThat(written).containsExactly("first", "kept");
    }
  }

  @Test
  void aFailedBatchFailsEveryRequestInIt() throws Exception {
    try (GroupCommitWriter<String, String> writer =
        new GroupCommitWriter<>(
            "test-writer",
            100,
            Long.MAX_VALUE,
            w -> 1,
            10,
            batch -> {
              throw new java.sql.SQLException("disk full");
            },
            n -> {})) {
      CompletableFuture<String> one = writer.submit("one");
      assertThat(one).failsWithin(java.time.Duration.ofSeconds(10));
    }
  }

  @Test
  void aFailedBatchIsDescribedWithoutTheValuesTheDatabaseQuoted() throws Exception {
    java.sql.SQLException quoting =
        new java.sql.BatchUpdateException(
            "Batch entry 0 INSERT INTO events VALUES ('{\"ssn\":\"123-45-6789\"}') was aborted",
            "08006",
            0,
            new int[0]);
    try (GroupCommitWriter<String, String> writer =
        new GroupCommitWriter<>(
            "test-writer",
            100,
            Long.MAX_VALUE,
            w -> 1,
            10,
            batch -> {
              throw quoting;
            },
            n -> {})) {
      CompletableFuture<String> one = writer.submit("one");
      assertThat(one)
          .failsWithin(java.time.Duration.ofSeconds(10))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .satisfies(
              e ->
                  assertThat(e.getCause().getMessage())
                      .contains("SQLState 08006")
                      .doesNotContain("123-45-6789"));
    }
  }

  @Test
  void waitingWorkIsBoundedByBytesAsWellAsCount() throws Exception {
    CountDownLatch firstBatchStarted = new CountDownLatch(1);
    CountDownLatch releaseFirstBatch = new CountDownLatch(1);
    try (GroupCommitWriter<String, String> writer =
        new GroupCommitWriter<>(
            "test-writer",
            100,
            1_000,
            String::length,
            10,
            batch -> {
              if (batch.contains("first")) {
                firstBatchStarted.countDown();
                releaseFirstBatch.await(10, TimeUnit.SECONDS);
              }
              return new ArrayList<>(batch);
            },
            n -> {})) {
      CompletableFuture<String> first = writer.submit("first");
      assertThat(firstBatchStarted.await(10, TimeUnit.SECONDS)).isTrue();
      // the writer is busy: what waits now is held in memory
      CompletableFuture<String> small = writer.submit("x".repeat(600));
      CompletableFuture<String> tooMuch = writer.submit("y".repeat(600));
      CompletableFuture<String> fits = writer.submit("z".repeat(400));
      assertThat(writer.waitingBytes()).isEqualTo(1_000);
      assertThat(tooMuch)
          .failsWithin(java.time.Duration.ofSeconds(1))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .satisfies(e -> assertThat(e.getCause().getMessage()).contains("queue is full"));
      releaseFirstBatch.countDown();
      assertThat(small.get(10, TimeUnit.SECONDS)).hasSize(600);
      assertThat(fits.get(10, TimeUnit.SECONDS)).hasSize(400);
      assertThat(writer.waitingBytes()).isZero();
      // alone, one item larger than the bound still goes through
      assertThat(writer.submit("w".repeat(5_000)).get(10, TimeUnit.SECONDS)).hasSize(5_000);
    }
  }
}
