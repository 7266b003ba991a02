package dev.switchboard.destination.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.ErrorClass;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransactionRollbackException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JdbcOutcomesTest {
  static final String STATEMENT =
      "INSERT INTO \"t\" (\"id\") VALUES (?) ON CONFLICT (\"id\") DO NOTHING";

  /** A message as PostgreSQL writes it: it quotes the value. */
  static SQLException failure(String state) {
    return new SQLException(
        "ERROR: invalid input syntax for type integer: \"secret-value\"\n  Detail: Key"
            + " (email)=(secret@example.com) already exists.",
        state);
  }

  @ParameterizedTest(name = "{0} is {1}")
  @CsvSource({
    "08001, retry, connection error",
    "08006, retry, connection error",
    "28P01, retry, connection error",
    "3D000, retry, connection error",
    "40001, retry, database unavailable",
    "40P01, retry, database unavailable",
    "55P03, retry, database unavailable",
    "57014, retry, timeout",
    "57P01, retry, connection error",
    "57P03, retry, connection error",
    "53300, retry, database unavailable",
    "53100, retry, database unavailable",
    "58030, retry, database unavailable",
    "25006, retry, database unavailable",
    "XX000, retry, database unavailable",
    "HV000, retry, database unavailable",
    "22P02, dead, rejected by the database",
    "22001, dead, rejected by the database",
    "23505, dead, rejected by the database",
    "23502, dead, rejected by the database",
    "23503, dead, rejected by the database",
    "42P01, dead, rejected by the database",
    "42703, dead, rejected by the database",
    "42501, dead, rejected by the database",
    "42P10, dead, rejected by the database",
    "42601, dead, rejected by the database",
    "0A000, dead, rejected by the database",
    "P0001, dead, rejected by the database",
    "40002, dead, rejected by the database",
  })
  void eachSqlStateHasItsOutcome(String state, String outcome, String prefix) {
    DeliveryResult result = JdbcOutcomes.of(failure(state), STATEMENT);
    if (outcome.equals("retry")) {
      assertThat(result).isInstanceOf(RetryLater.class);
      RetryLater retry = (RetryLater) result;
      assertThat(retry.error()).startsWith(prefix + ": ").endsWith("(SQLState " + state + ")");
      assertThat(retry.retryAfter()).isNull();
    } else {
      assertThat(result).isInstanceOf(Rejected.class);
      assertThat(((Rejected) result).error())
          .startsWith(prefix + ": ")
          .endsWith("(SQLState " + state + ")");
    }
    assertThat(result.excerpt()).isEqualTo(STATEMENT);
    ErrorClass errorClass =
        result instanceof Rejected r ? r.errorClass() : ((RetryLater) result).errorClass();
    assertThat(errorClass)
        .isEqualTo(
            switch (prefix) {
              case "connection error" -> ErrorClass.CONNECTION;
              case "timeout" -> ErrorClass.TIMEOUT;
              default -> ErrorClass.ERROR;
            });
  }

  @Test
  void errorsNameTheStateNeverTheDatabaseMessage() {
    for (String state : new String[] {"22P02", "23505", "42703", "08001", "57014"}) {
      DeliveryResult result = JdbcOutcomes.of(failure(state), STATEMENT);
      String error = result instanceof Rejected r ? r.error() : ((RetryLater) result).error();
      assertThat(error + result.excerpt()).doesNotContain("secret");
    }
    assertThat(((Rejected) JdbcOutcomes.of(failure("42703"), STATEMENT)).error())
        .isEqualTo("rejected by the database: undefined column (SQLState 42703)");
    assertThat(((Rejected) JdbcOutcomes.of(failure("22P02"), STATEMENT)).error())
        .isEqualTo("rejected by the database: invalid text representation (SQLState 22P02)");
  }

  @Test
  void aPoolTimeoutCarriesTheStateOfTheFailureBehindIt() {
    SQLException refused = new SQLException("Connection to 127.0.0.1:5432 refused", "08001");
    SQLTransientConnectionException pool =
        new SQLTransientConnectionException("pool - Connection is not available", null, refused);
    assertThat(JdbcOutcomes.of(pool, STATEMENT))
        .isInstanceOfSatisfying(
            RetryLater.class,
            r ->
                assertThat(r.error())
                    .isEqualTo("connection error: connection exception (SQLState 08001)"));
  }

  @Test
  void withoutAStateTheExceptionTypeDecides() {
    assertThat(JdbcOutcomes.of(new SQLTransientConnectionException("pool exhausted"), STATEMENT))
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.error()).startsWith("connection error");
              assertThat(r.errorClass()).isEqualTo(ErrorClass.CONNECTION);
            });
    assertThat(JdbcOutcomes.of(new SQLTimeoutException("slow"), STATEMENT))
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.error()).startsWith("timeout");
              assertThat(r.errorClass()).isEqualTo(ErrorClass.TIMEOUT);
            });
    assertThat(JdbcOutcomes.of(new SQLTransactionRollbackException("rolled back"), STATEMENT))
        .isInstanceOf(RetryLater.class);
    assertThat(JdbcOutcomes.of(new SQLIntegrityConstraintViolationException("dup x"), STATEMENT))
        .isInstanceOf(Rejected.class);
    assertThat(JdbcOutcomes.of(new SQLException("no idea"), STATEMENT))
        .isInstanceOf(RetryLater.class);
  }

  @Test
  void sqliteResultCodesReadAsTheMatchingSqlState() {
    assertThat(JdbcOutcomes.sqliteState(1)).isEqualTo("42000");
    assertThat(JdbcOutcomes.sqliteState(5)).isEqualTo("55P03");
    assertThat(JdbcOutcomes.sqliteState(19)).isEqualTo("23000");
    assertThat(JdbcOutcomes.sqliteState(14)).startsWith("08");
    assertThat(JdbcOutcomes.sqliteState(0)).isNull();
  }
}
