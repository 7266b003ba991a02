package dev.switchboard.store.sql;

/**
 * A SQLite store another gateway holds ({@link StoreLock}); the message names the file, the lock
 * file and, where the platform tells, the holder's pid.
 */
public final class StoreInUseException extends IllegalStateException {
  public StoreInUseException(String message) {
    super(message);
  }
}
