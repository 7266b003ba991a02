package dev.switchboard.testing;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for tests, on 127.0.0.1 and a free port, with its data in a temp folder:
 * start one per test class ({@code @BeforeAll}) and {@link #close} it after ({@code @AfterAll}).
 *
 * <p>The binaries are zonky's (Maven artifacts, unpacked once per machine into {@code
 * java.io.tmpdir/switchboard-pg/}); this class runs them itself instead of zonky's runner, for two
 * reasons. First, initdb and postgres refuse to run as root, and CI runs the tests as root: zonky
 * then relies on {@code unshare -U}, which a container without user namespaces forbids. Here, as
 * root, every PostgreSQL command runs as {@code nobody} through {@code setpriv} (util-linux, no
 * PAM, no namespaces) on a folder {@code nobody} owns; as any other user the commands run directly.
 * Second, a test can {@link #stop} the server and {@link #start} it again on the same port and
 * data, to play a database that goes away and comes back.
 *
 * <p>Connections over TCP log in with a password (scram-sha-256), as in production.
 */
public final class EmbeddedPostgres implements AutoCloseable {
  public static final String USER = "postgres";
  public static final String PASSWORD = "postgres-test-password";

  private static final String UNPRIVILEGED = "nobody";
  private static final long COMMAND_SECONDS = 120;

  private final Path binaries;
  private final Path root;
  private final Path data;
  private final int port;
  private final Thread shutdownHook;
  private volatile boolean running;

  private EmbeddedPostgres(Path binaries, Path root, int port) {
    this.binaries = binaries;
    this.root = root;
    this.data = root.resolve("data");
    this.port = port;
    this.shutdownHook = new Thread(this::stopQuietly, "embedded-postgres-stop");
  }

  /** Unpacks the binaries if needed, creates a cluster in a new temp folder and starts it. */
  public static EmbeddedPostgres start() {
    try {
      Path binaries = binaries();
      Path root = Files.createTempDirectory("switchboard-pg-");
      EmbeddedPostgres pg = new EmbeddedPostgres(binaries, root, freePort());
      pg.initdb();
      Runtime.getRuntime().addShutdownHook(pg.shutdownHook);
      pg.startAgain();
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
    }
  }

  public int port() {
    return port;
  }

  /** {@code jdbc:postgresql://127.0.0.1:<port>/<database>}; log in as {@link #USER}. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  public String jdbcUrl() {
    return jdbcUrl("postgres");
  }

  /** A new connection to {@code database} as the superuser; the caller closes it. */
  public Connection connect(String database) throws SQLException {
    Properties login = new Properties();
    login.setProperty("user", USER);
    login.setProperty("password", PASSWORD);
    return DriverManager.getConnection(jdbcUrl(database), login);
  }

  public Connection connect() throws SQLException {
    return connect("postgres");
  }

  /** Runs each statement in {@code database}, in order, on one connection. */
  public void execute(String database, String... statements) {
    try (Connection connection = connect(database);
        Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("statement failed: " + e.getMessage(), e);
    }
  }

  /** A new, empty database, so test classes sharing nothing can share a server. */
  public String createDatabase(String name) {
    execute("postgres", "CREATE DATABASE " + name);
    return name;
  }

  /** Stops the server (fast shutdown: open sessions are ended, as an admin restart would). */
  public synchronized void stop() {
    if (running) {
      run(pgCtl("-D", data.toString(), "-m", "fast", "-w", "-t", "60", "stop"));
      running = false;
    }
  }

  /** Starts the stopped server again, on the same port and data. */
  public synchronized void startAgain() {
    if (!running) {
      run(
          pgCtl(
              "-D",
              data.toString(),
              "-l",
              root.resolve("server.log").toString(),
              "-w",
              "-t",
              "60",
              "start"));
      running = true;
    }
  }

  public boolean running() {
    return running;
  }

  /** Stops the server and deletes its data. */
  @Override
  public void close() {
    try {
      stop();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException alreadyShuttingDown) {
        // the hook runs anyway
      }
      deleteTree(root);
    }
  }

  private void stopQuietly() {
    try {
      stop();
    } catch (RuntimeException e) {
      System.err.println("embedded PostgreSQL on port " + port + " did not stop: " + e);
    }
  }

  private void initdb() throws IOException {
    Path passwordFile = root.resolve("password");
    Files.writeString(passwordFile, PASSWORD + "\n");
    if (asRoot()) {
      UserPrincipal nobody =
          root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(UNPRIVILEGED);
      Files.setOwner(root, nobody);
      Files.setOwner(passwordFile, nobody);
    }
    run(
        command(
            "initdb",
            "-D",
            data.toString(),
            "-U",
            USER,
            "--pwfile=" + passwordFile,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync"));
    Files.delete(passwordFile);
    // Appended to the file initdb wrote (owned by the server's user): later lines win.
    Files.writeString(
        data.resolve("postgresql.conf"),
        String.join(
            "\n",
            "",
            "listen_addresses = '127.0.0.1'",
            "port = " + port,
            "unix_socket_directories = ''",
            "max_connections = 100",
            "shared_buffers = 32MB",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "timezone = 'UTC'",
            ""),
        StandardOpenOption.APPEND);
  }

  private List<String> pgCtl(String... args) {
    return command("pg_ctl", args);
  }

  /** A PostgreSQL program with its arguments, run as {@code nobody} when we are root. */
  private List<String> command(String program, String... args) {
    List<String> command = new ArrayList<>();
    if (asRoot()) {
      // setpriv changes user without PAM or user namespaces; --init-groups drops root's groups
      command.addAll(
          List.of(
              "setpriv", "--reuid=" + UNPRIVILEGED, "--regid=" + nobodyGroup(), "--init-groups"));
    }
    command.add(binaries.resolve("bin").resolve(program).toString());
    command.addAll(List.of(args));
    return command;
  }

  private void run(List<String> command) {
    Path output = root.resolve("command.out");
    try {
      ProcessBuilder builder =
          new ProcessBuilder(command)
              .directory(root.toFile())
              .redirectErrorStream(true)
              .redirectOutput(output.toFile());
      builder.environment().put("LC_ALL", "C");
      builder.environment().keySet().removeIf(name -> name.startsWith("PG"));
      Process process = builder.start();
      if (!process.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(command.get(command.size() - 1) + " did not finish");
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", command)
                + " failed ("
                + process.exitValue()
                + "):\n"
                + tail(output)
                + "\nserver log:\n"
                + tail(root.resolve("server.log")));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    }
  }

  private static String tail(Path file) {
    try {
      if (!Files.exists(file)) {
        return "(none)";
      }
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  // --- the machine ---

  private static boolean asRoot() {
    return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
  }

  private static String nobodyGroup() {
    try {
      Process id = new ProcessBuilder("id", "-g", UNPRIVILEGED).redirectErrorStream(true).start();
      String gid = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (id.waitFor() != 0 || !gid.matches("\\d+")) {
        throw new IllegalStateException(
            "no user " + UNPRIVILEGED + " to run PostgreSQL as: " + gid);
      }
      return gid;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /**
   * The unpacked binaries, shared by every test JVM on the machine: unpacked into a fresh folder
   * named for the archive's hash and moved into place in one step, so a concurrent JVM either sees
   * a complete folder or unpacks its own copy.
   */
  private static synchronized Path binaries() throws IOException {
    byte[] archive;
    try (InputStream in =
        DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(operatingSystem(), architecture())) {
      archive = in.readAllBytes();
    }
    Path cache = Path.of(System.getProperty("java.io.tmpdir"), "switchboard-pg");
    if (Files.isDirectory(cache) && !Files.isWritable(cache)) {
      cache = cache.resolveSibling("switchboard-pg-" + System.getProperty("user.name"));
    }
    Files.createDirectories(cache);
    cache.toFile().setReadable(true, false);
    cache.toFile().setExecutable(true, false);
    Path target = cache.resolve(sha256(archive).substring(0, 16));
    if (Files.isExecutable(target.resolve("bin/postgres"))) {
      return target;
    }
    Path unpacking = Files.createTempDirectory(cache, "unpacking-");
    untar(archive, unpacking);
    // readable and runnable by nobody, whoever unpacked it
    waitFor(new ProcessBuilder("chmod", "-R", "a+rX", unpacking.toString()));
    try {
      Files.move(unpacking, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
      deleteTree(unpacking);
    }
    return target;
  }

  /** The system's tar (xz built in or through xz-utils): it keeps links and modes as packed. */
  private static void untar(byte[] archive, Path into) throws IOException {
    Process tar =
        new ProcessBuilder("tar", "--no-same-owner", "-xJf", "-", "-C", into.toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    try (OutputStream in = tar.getOutputStream()) {
      in.write(archive);
    }
    try {
      if (!tar.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS) || tar.exitValue() != 0) {
        throw new IOException("tar could not unpack the PostgreSQL binaries");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private static void waitFor(ProcessBuilder builder) throws IOException {
    try {
      Process process = builder.inheritIO().start();
      if (!process.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IOException(String.join(" ", builder.command()) + " failed");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private static String operatingSystem() {
    String name = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    if (name.contains("mac")) {
      return "Darwin";
    }
    if (name.contains("linux")) {
      return "Linux";
    }
    throw new IllegalStateException("no embedded PostgreSQL binaries for " + name);
  }

  /** The names zonky's resolver expects (it normalises aarch64, arm, ppc64le itself). */
  private static String architecture() {
    String arch = System.getProperty("os.arch");
    return "amd64".equals(arch) ? "x86_64" : arch;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(EmbeddedPostgres::delete);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
