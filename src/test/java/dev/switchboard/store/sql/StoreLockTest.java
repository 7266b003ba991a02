package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One holder per SQLite store file, within this process as well as across processes. */
class StoreLockTest {
  @TempDir Path dir;

  @Test
  void theLockFileSitsBesideTheStoreAndHoldsThisProcesssPid() throws Exception {
    Path store = dir.resolve("data/switchboard.db");

    try (StoreLock lock = StoreLock.acquire(store)) {
      assertThat(lock.lockFile()).isEqualTo(dir.resolve("data/switchboard.db.lock"));
      assertThat(Files.readString(lock.lockFile()).strip())
          .isEqualTo(Long.toString(ProcessHandle.current().pid()));
    }
  }

  @Test
  void aSecondHolderInThisProcessIsRefusedNamingTheFileAndThePid() throws Exception {
    Path store = dir.resolve("switchboard.db");

    try (StoreLock first = StoreLock.acquire(store)) {
      assertThatThrownBy(() -> StoreLock.acquire(store))
          .isInstanceOf(StoreInUseException.class)
          .hasMessageContaining("store " + store + " is in use")
          .hasMessageContaining("pid " + ProcessHandle.current().pid())
          .hasMessageContaining(store + ".lock");
      // the refusal did not disturb the holder's lock
      assertThat(Files.readString(first.lockFile()).strip())
          .isEqualTo(Long.toString(ProcessHandle.current().pid()));
      assertThatThrownBy(() -> StoreLock.acquire(store)).isInstanceOf(StoreInUseException.class);
    }
  }

  @Test
  void anotherPathToTheSameFolderIsTheSameStore() throws Exception {
    Path real = Files.createDirectories(dir.resolve("real"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), real);

    try (StoreLock first = StoreLock.acquire(real.resolve("switchboard.db"))) {
      assertThatThrownBy(() -> StoreLock.acquire(link.resolve("switchboard.db")))
          .isInstanceOf(StoreInUseException.class);
      assertThatThrownBy(() -> StoreLock.acquire(real.resolve("./x/../switchboard.db")))
          .isInstanceOf(StoreInUseException.class);
    }
  }

  @Test
  void aLinkToTheStoreFileIsTheSameStore() throws Exception {
    Path real = Files.createFile(dir.resolve("switchboard.db"));
    Path link = Files.createSymbolicLink(dir.resolve("alias.db"), real);

    try (StoreLock first = StoreLock.acquire(real)) {
      assertThatThrownBy(() -> StoreLock.acquire(link))
          .isInstanceOf(StoreInUseException.class)
          .hasMessageContaining("switchboard.db.lock");
    }
  }

  @Test
  void onceReleasedTheStoreCanBeTakenAgainAndTheFileIsEmptied() throws Exception {
    Path store = dir.resolve("switchboard.db");
    StoreLock first = StoreLock.acquire(store);
    first.close();
    first.close(); // idempotent

    assertThat(Files.readString(first.lockFile())).isEmpty();
    try (StoreLock again = StoreLock.acquire(store)) {
      assertThat(again.lockFile()).exists();
    }
  }

  @Test
  void differentStoreFilesInOneFolderDoNotConflict() throws Exception {
    try (StoreLock a = StoreLock.acquire(dir.resolve("a.db"));
        StoreLock b = StoreLock.acquire(dir.resolve("b.db"))) {
      assertThat(a.lockFile()).isNotEqualTo(b.lockFile());
    }
  }
}
