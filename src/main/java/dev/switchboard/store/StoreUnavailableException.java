package dev.switchboard.store;

/** The store could not durably write (disk full, read-only, closed). Ingest answers 503. */
public class StoreUnavailableException extends RuntimeException {
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
