package dev.switchboard.cli;

import dev.switchboard.store.sql.SqliteBackup;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code switchboard backup --store FILE --to FILE}: a consistent copy of a SQLite store while the
 * gateway runs (docs/store.md, "Backups"); in a container, {@code docker exec} it there.
 */
@Command(
    name = "backup",
    description =
        "Copy a SQLite store while the gateway keeps running: a consistent, compacted copy as of"
            + " one commit. (PostgreSQL: back it up as any PostgreSQL database.)")
final class BackupCommand implements Callable<Integer> {
  @Option(names = "--store", required = true, description = "the store, e.g. /data/switchboard.db")
  Path store;

  @Option(names = "--to", required = true, description = "the copy to write (must not exist)")
  Path target;

  @Override
  public Integer call() {
    try {
      SqliteBackup.Copied copied = SqliteBackup.copy(store, target);
      System.out.printf(
          "backed up %s to %s: %,d bytes, %,d events, %,d deliveries%n",
          store, target, copied.bytes(), copied.events(), copied.deliveries());
      return 0;
    } catch (IOException | SQLException e) {
      System.err.println("switchboard: backup failed: " + e.getMessage());
      return 1;
    }
  }
}
