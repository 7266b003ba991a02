package dev.switchboard.destination.jdbc;

import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.ErrorClass;
import java.sql.SQLDataException;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLSyntaxErrorException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.sql.SQLTransientException;
import java.util.Map;
import java.util.Set;

/**
 * The one mapping from a failed statement to a {@link DeliveryResult}, by SQLState (SQL standard
 * and PostgreSQL's codes).
 *
 * <p>Failure policy: what says the database cannot take anything now — no connection (08), login
 * refused (28), the transaction lost a race (40: serialization failure, deadlock), a lock or
 * statement timeout (55P03, 57014), shutdown or recovery (57P0x), no resources (53), system errors
 * (58, XX) or a read-only standby after a failover (25) — is retried by the dispatcher with
 * backoff, the breaker keeping a dead database from being hammered. What says this row can never go
 * in — bad data (22), a constraint other than the upsert's own key (23), an unknown table or
 * column, no unique key matching {@code key_columns}, no privilege (42), a trigger that raised (P0,
 * 38, 39) — is dead-lettered at once. A state not listed is retried (bounded by the destination's
 * max age): an unknown failure is no proof that the row is bad.
 *
 * <p>Database messages are never used: they quote values ({@code invalid input syntax for type
 * integer: "…"}, {@code Key (email)=(…) already exists}). Errors carry the SQLState and its
 * standard name only.
 */
final class JdbcOutcomes {

  /** SQLState classes whose failure is the row's: dead-letter at once. */
  private static final Set<String> REJECTED_CLASSES =
      Set.of("0A", "21", "22", "23", "27", "2F", "38", "39", "42", "44", "P0");

  /**
   * SQLState classes meaning the connection or the login failed; 57P01… (the server shutting down
   * or restarting) ends the session too.
   */
  private static final Set<String> CONNECTION_CLASSES = Set.of("08", "28", "3D");

  private static final Map<String, String> NAMES =
      Map.ofEntries(
          Map.entry("08", "connection exception"),
          Map.entry("0A", "feature not supported"),
          Map.entry("21", "cardinality violation"),
          Map.entry("22", "data exception"),
          Map.entry("22001", "value too long"),
          Map.entry("22003", "numeric value out of range"),
          Map.entry("22007", "invalid datetime format"),
          Map.entry("22008", "datetime field overflow"),
          Map.entry("22P02", "invalid text representation"),
          Map.entry("23", "integrity constraint violation"),
          Map.entry("23502", "not-null violation"),
          Map.entry("23503", "foreign key violation"),
          Map.entry("23505", "unique violation"),
          Map.entry("23514", "check violation"),
          Map.entry("25", "invalid transaction state"),
          Map.entry("25006", "read-only transaction"),
          Map.entry("28", "login refused"),
          Map.entry("3D", "no such database"),
          Map.entry("40", "transaction rollback"),
          Map.entry("40001", "serialization failure"),
          Map.entry("40P01", "deadlock detected"),
          Map.entry("42", "syntax error or access rule violation"),
          Map.entry("42501", "insufficient privilege"),
          Map.entry("42703", "undefined column"),
          Map.entry("42804", "datatype mismatch"),
          Map.entry("42P01", "undefined table"),
          Map.entry("42P10", "no unique constraint matches key_columns"),
          Map.entry("53", "insufficient resources"),
          Map.entry("55", "object not in prerequisite state"),
          Map.entry("55P03", "lock not available"),
          Map.entry("57", "operator intervention"),
          Map.entry("57014", "statement timeout"),
          Map.entry("57P01", "admin shutdown"),
          Map.entry("57P02", "crash shutdown"),
          Map.entry("57P03", "cannot connect now"),
          Map.entry("58", "system error"),
          Map.entry("P0", "raised by a trigger"),
          Map.entry("XX", "internal error"));

  private JdbcOutcomes() {}

  /**
   * @param statement the statement with placeholders (names, never values), for the excerpt
   */
  static DeliveryResult of(SQLException failure, String statement) {
    String state = sqlState(failure);
    if (state == null) {
      return withoutState(failure, statement);
    }
    String sqlClass = state.substring(0, 2);
    String what = name(state) + " (SQLState " + state + ")";
    if (REJECTED_CLASSES.contains(sqlClass) || state.equals("40002")) {
      return new Rejected("rejected by the database: " + what, 0, statement);
    }
    if (CONNECTION_CLASSES.contains(sqlClass) || state.startsWith("57P")) {
      return RetryLater.noAnswer(
          ErrorClass.CONNECTION, "connection error: " + what, null, statement);
    }
    if (state.equals("57014")) {
      return RetryLater.noAnswer(ErrorClass.TIMEOUT, "timeout: " + what, null, statement);
    }
    return new RetryLater("database unavailable: " + what, 0, null, statement);
  }

  /**
   * Drivers that set no SQLState (SQLite's) are read by their JDBC exception type, then by SQLite's
   * result code.
   */
  private static DeliveryResult withoutState(SQLException failure, String statement) {
    String type = failure.getClass().getSimpleName();
    if (failure instanceof SQLTimeoutException) {
      return RetryLater.noAnswer(ErrorClass.TIMEOUT, "timeout: " + type, null, statement);
    }
    if (failure instanceof SQLRecoverableException
        || failure instanceof SQLNonTransientConnectionException
        || failure instanceof SQLTransientConnectionException) {
      return RetryLater.noAnswer(
          ErrorClass.CONNECTION, "connection error: " + type, null, statement);
    }
    if (failure instanceof SQLTransientException) {
      return new RetryLater("database unavailable: " + type, 0, null, statement);
    }
    if (failure instanceof SQLIntegrityConstraintViolationException
        || failure instanceof SQLDataException
        || failure instanceof SQLSyntaxErrorException) {
      return new Rejected("rejected by the database: " + type, 0, statement);
    }
    String sqlite = sqliteState(failure.getErrorCode());
    if (sqlite != null && failure.getClass().getName().startsWith("org.sqlite.")) {
      return of(new SQLException("", sqlite), statement);
    }
    return new RetryLater(
        "database error: " + type + " (code " + failure.getErrorCode() + ")", 0, null, statement);
  }

  /**
   * SQLite's primary result codes (sqlite.org/rescode.html) as the SQLState of the same meaning.
   */
  static String sqliteState(int code) {
    return switch (code) {
      case 1 -> "42000"; // SQLITE_ERROR: syntax, no such table or column
      case 5, 6 -> "55P03"; // SQLITE_BUSY, SQLITE_LOCKED
      case 7 -> "53200"; // SQLITE_NOMEM
      case 8 -> "25006"; // SQLITE_READONLY
      case 10, 11, 26 -> "58030"; // SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_NOTADB
      case 13 -> "53100"; // SQLITE_FULL
      case 14 -> "08001"; // SQLITE_CANTOPEN
      case 18 -> "22001"; // SQLITE_TOOBIG
      case 19 -> "23000"; // SQLITE_CONSTRAINT, STRICT tables' datatype checks included
      case 20 -> "22000"; // SQLITE_MISMATCH
      case 23 -> "42501"; // SQLITE_AUTH
      default -> null;
    };
  }

  /** The first SQLState along the exception's chain (pools wrap the driver's exception). */
  static String sqlState(SQLException failure) {
    Throwable t = failure;
    for (int depth = 0; t != null && depth < 10; depth++) {
      if (t instanceof SQLException sql) {
        String state = sql.getSQLState();
        if (state != null && state.length() == 5) {
          return state;
        }
        if (sql.getNextException() != null) {
          t = sql.getNextException();
          continue;
        }
      }
      t = t.getCause();
    }
    return null;
  }

  private static String name(String state) {
    String name = NAMES.get(state);
    return name != null ? name : NAMES.getOrDefault(state.substring(0, 2), "database error");
  }
}
