package dev.switchboard.cli;

import com.sun.net.httpserver.HttpServer;
import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigLoader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import picocli.CommandLine.Command;

/**
 * {@code switchboard aot-training}: the training run for the JDK's ahead-of-time cache, made at
 * package time (docs/adr/0012). Starts a gateway on a throw-away SQLite file in a temporary folder,
 * sends it a few events over HTTP on 127.0.0.1, waits until a local sink has received each, reads
 * its health and metrics, and stops it the way SIGTERM does: the classes this loads and links are
 * what a gateway's start needs, so the cache holds them ready. Hidden: not a command for operators.
 */
@Command(
    name = "aot-training",
    hidden = true,
    description = "Run a short gateway workload for the JDK's AOT cache (used by the build).")
final class AotTrainingCommand implements Callable<Integer> {
  private static final int EVENTS = 20;
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("switchboard-aot-training");
    AtomicInteger received = new AtomicInteger();
    HttpServer sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    sink.createContext(
        "/in",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          received.incrementAndGet();
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    sink.start();
    Gateway gateway = null;
    try {
      Path config = dir.resolve("training.yaml");
      Files.writeString(config, config(dir, sink.getAddress().getPort()));
      gateway = Gateway.start(ConfigLoader.load(config), Clock.systemUTC());
      work(gateway.port(), received);
      return 0;
    } finally {
      try {
        if (gateway != null) {
          gateway.close();
        }
      } finally {
        sink.stop(0);
        deleteAll(dir);
      }
    }
  }

  private static String config(Path dir, int sinkPort) {
    return """
        server: { host: 127.0.0.1, port: 0 }
        store: { path: "%s" }
        sources:
          calls:
            verify: { scheme: none }
            idempotency: { key: id }
        routes:
          to-sink: { from: calls, to: sink, ordering: per-key, transform: '{"id": id, "at": at}' }
        destinations:
          sink: { type: http, url: "http://127.0.0.1:%d/in" }
        """
        .formatted(dir.resolve("training.db").toString().replace("\\", "/"), sinkPort);
  }

  private static void work(int port, AtomicInteger received)
      throws IOException, InterruptedException {
    String base = "http://127.0.0.1:" + port;
    try (HttpClient client =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
      expect(client, HttpRequest.newBuilder(URI.create(base + "/readyz")), 200);
      for (int i = 0; i < EVENTS; i++) {
        String body = "{\"id\":\"training-" + i + "\",\"at\":\"2026-01-01T00:00:00Z\"}";
        expect(
            client,
            HttpRequest.newBuilder(URI.create(base + "/hooks/calls"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)),
            202);
      }
      long until = System.nanoTime() + WAIT.toNanos();
      while (received.get() < EVENTS) {
        if (System.nanoTime() > until) {
          throw new IOException("the training sink received " + received.get() + " of " + EVENTS);
        }
        Thread.sleep(10);
      }
      expect(client, HttpRequest.newBuilder(URI.create(base + "/metrics")), 200);
      expect(client, HttpRequest.newBuilder(URI.create(base + "/healthz")), 200);
    }
  }

  private static void expect(HttpClient client, HttpRequest.Builder request, int status)
      throws IOException, InterruptedException {
    HttpResponse<String> answer =
        client.send(
            request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (answer.statusCode() != status) {
      throw new IOException(
          request.build().uri().getPath() + " answered " + answer.statusCode() + ", not " + status);
    }
  }

  private static void deleteAll(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
