package dev.switchboard.store.sql;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The one process that may use a SQLite store: an exclusive lock on {@code <store file>.lock},
 * beside the store, taken before anything opens the database and held until the store is closed
 * (docs/store.md). A second gateway on the same file, in another process or in this one, is
 * refused: it would return the first one's in-flight deliveries to {@code pending} and send them
 * again. The operating system drops the lock when the holder dies, even by {@code kill -9}; the
 * file itself stays, and holds the holder's pid while it is held.
 */
public final class StoreLock implements AutoCloseable {

  /** The lock files this process holds, by real path: a second channel on one would drop them. */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  /**
   * Channels that found a lock of this process through another name for the file (a link): closing
   * them would release that lock too on POSIX systems, so they stay open.
   */
  private static final List<FileChannel> KEPT_OPEN = new CopyOnWriteArrayList<>();

  private final Path lockFile;
  private final Path key;
  private final FileChannel channel;
  private final FileLock lock;
  private boolean released; // guarded by this

  private StoreLock(Path lockFile, Path key, FileChannel channel, FileLock lock) {
    this.lockFile = lockFile;
    this.key = key;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * {@code <store file>.lock}, beside the store; beside the file a link points to, when the store
   * is a link (two names for one store take one lock).
   */
  public static Path lockFileOf(Path storeFile) {
    Path absolute = storeFile.toAbsolutePath().normalize();
    if (Files.exists(absolute)) {
      try {
        absolute = absolute.toRealPath();
      } catch (IOException e) {
        // keep the name as given: the folder is resolved to its real path all the same
      }
    }
    return absolute.resolveSibling(absolute.getFileName() + ".lock");
  }

  /**
   * Takes the store's lock, creating the store's folder and the lock file when missing, and writes
   * this process's pid into it.
   *
   * @throws StoreInUseException when another process, or this one, holds it
   * @throws IOException when the lock file cannot be created or written
   */
  public static StoreLock acquire(Path storeFile) throws IOException {
    Path store = storeFile.toAbsolutePath().normalize();
    Path lockFile = lockFileOf(store);
    Files.createDirectories(lockFile.getParent());
    Path key = lockFile.getParent().toRealPath().resolve(lockFile.getFileName());
    long self = ProcessHandle.current().pid();
    if (!HELD.add(key)) {
      throw new StoreInUseException(refusal(store, lockFile, "this process (pid " + self + ")"));
    }
    FileChannel channel = null;
    try {
      channel =
          FileChannel.open(
              lockFile,
              StandardOpenOption.CREATE,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        KEPT_OPEN.add(channel);
        channel = null;
        throw new StoreInUseException(refusal(store, lockFile, "this process (pid " + self + ")"));
      }
      if (lock == null) {
        channel.close();
        channel = null;
        throw new StoreInUseException(refusal(store, lockFile, holder(lockFile)));
      }
      channel.truncate(0);
      channel.write(ByteBuffer.wrap((self + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
      channel.force(false);
      return new StoreLock(lockFile, key, channel, lock);
    } catch (IOException | RuntimeException e) {
      HELD.remove(key);
      if (channel != null) {
        channel.close();
      }
      throw e;
    }
  }

  public Path lockFile() {
    return lockFile;
  }

  /** Empties the lock file and releases the lock. Idempotent. */
  @Override
  public synchronized void close() {
    if (released) {
      return;
    }
    released = true;
    try {
      channel.truncate(0);
      lock.release();
    } catch (IOException e) {
      // closing the channel below releases the lock all the same
    } finally {
      try {
        channel.close();
      } catch (IOException e) {
        // nothing more to release
      }
      HELD.remove(key);
    }
  }

  private static String refusal(Path store, Path lockFile, String holder) {
    return "store "
        + store
        + " is in use by "
        + holder
        + ", which holds "
        + lockFile
        + "; a second gateway on the same SQLite file would send its in-flight deliveries again."
        + " Stop the other one first, or give this one another store.path";
  }

  /** "another process (pid N)", or without the pid where the file cannot be read. */
  private static String holder(Path lockFile) {
    try {
      String text = Files.readString(lockFile, StandardCharsets.US_ASCII).strip();
      if (text.matches("[0-9]{1,19}")) {
        return "another process (pid " + text + ")";
      }
    } catch (IOException | RuntimeException e) {
      // Windows refuses to read a locked region: the pid stays unknown there
    }
    return "another process";
  }
}
