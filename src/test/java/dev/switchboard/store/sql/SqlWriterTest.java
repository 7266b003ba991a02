package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqlWriterTest {
  @TempDir Path dir;

  record Keyed(String lockKey) implements SqlWriter.KeyedOp {
    @Override
    public Object apply(SqlWriter.Context ctx) {
      return lockKey;
    }
  }

  static final SqlWriter.WriteOp PLAIN = ctx -> null;

  @Test
  void keyedOpsTakeTheirSlotsInKeyOrderAndTheRestKeepTheirPlace() {
    List<SqlWriter.WriteOp> batch =
        List.of(new Keyed("c"), PLAIN, new Keyed("a"), new Keyed("b"), PLAIN, new Keyed("a"));
    int[] order = SqlWriter.lockOrder(batch);
    // slots 0, 2, 3, 5 hold keyed ops: a (2), a (5, after 2), b (3), c (0)
    assertThat(order).containsExactly(2, 1, 5, 3, 4, 0);
    assertThat(SqlWriter.lockOrder(List.of(PLAIN, new Keyed("x")))).isNull();
  }

  /** SQLite, except that the test's SQLState counts as a deadlock another node caused. */
  static final class DeadlockingSqlite implements Dialect {
    final SqliteDialect sqlite;

    DeadlockingSqlite(Path file) {
      sqlite = new SqliteDialect(file);
    }

    @Override
    public String name() {
      return "test";
    }

    @Override
    public DataSource dataSource() {
      return sqlite.dataSource();
    }

    @Override
    public void prepareWriter(Connection c) throws SQLException {
      sqlite.prepareWriter(c);
    }

    @Override
    public void prepareReader(Connection c) throws SQLException {
      sqlite.prepareReader(c);
    }

    @Override
    public void limitSize(Connection writer, long maxSizeBytes) {}

    @Override
    public int readers() {
      return 1;
    }

    @Override
    public boolean soleWriter() {
      return false;
    }

    @Override
    public boolean isTransient(SQLException e) {
      return "40P01".equals(e.getSQLState());
    }

    @Override
    public void close() {}
  }

  @Test
  void aBatchAbortedByADeadlockRunsAgainAndLeavesOnlyItsSecondRun() throws Exception {
    Path file = dir.resolve("w.db");
    AtomicInteger runs = new AtomicInteger();
    List<String> afterCommit = new CopyOnWriteArrayList<>();
    List<Integer> batches = new ArrayList<>();
    try (SqlWriter writer = new SqlWriter(new DeadlockingSqlite(file), batches::add)) {
      writer
          .submit(
              ctx -> {
                ctx.statement("CREATE TABLE t (run INTEGER)").executeUpdate();
                return null;
              })
          .get(10, TimeUnit.SECONDS);
      Object result =
          writer
              .submit(
                  ctx -> {
                    int run = runs.incrementAndGet();
                    var insert = ctx.statement("INSERT INTO t (run) VALUES (?)");
                    insert.setInt(1, run);
                    insert.executeUpdate();
                    ctx.afterCommit(() -> afterCommit.add("run " + run));
                    if (run == 1) {
                      throw new SQLException("deadlock detected", "40P01");
                    }
                    return run;
                  })
              .get(10, TimeUnit.SECONDS);
      assertThat(result).isEqualTo(2);
      assertThat(afterCommit).containsExactly("run 2");
      assertThat(
              writer
                  .submit(
                      ctx -> {
                        try (Statement s = ctx.connection().createStatement();
                            var rs = s.executeQuery("SELECT group_concat(run) FROM t")) {
                          rs.next();
                          return rs.getString(1);
                        }
                      })
                  .get(10, TimeUnit.SECONDS))
          .isEqualTo("2");
    }
  }
}
