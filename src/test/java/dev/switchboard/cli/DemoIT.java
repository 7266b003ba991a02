package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code switchboard demo} as a user runs it: the packaged jar as a child process. */
class DemoIT {
  private static final Pattern URL =
      Pattern.compile("dashboard: +(http://127\\.0\\.0\\.1:\\d+)/ui");
  private static final Pattern TOKEN = Pattern.compile("token: +([0-9a-f]{32})");
  private static final Pattern SUMMARY =
      Pattern.compile(
          "events (\\d+) accepted, (\\d+) duplicates \\| deliveries (\\d+) delivered, (\\d+)"
              + " retrying, (\\d+) dead letters \\| salesforce (\\d+) records");

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void runsTheGatewayFakesAndEmulatorThenStopsByItself() throws Exception {
    String jar = System.getProperty("switchboard.jar", "target/switchboard.jar");
    assertThat(Path.of(jar)).as("the packaged jar (failsafe runs after package)").exists();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process =
        new ProcessBuilder(java, "-Xmx512m", "-jar", jar, "demo", "--duration", "8s", "--port", "0")
            .redirectErrorStream(true)
            .start();
    StringBuffer output = new StringBuffer();
    Thread reader =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  try (BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(
                              process.getInputStream(), StandardCharsets.UTF_8))) {
                    int c;
                    while ((c = in.read()) >= 0) {
                      output.append((char) c);
                    }
                  } catch (java.io.IOException e) {
                    // the process ended
                  }
                });
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> URL.matcher(output).find() && TOKEN.matcher(output).find());
      Matcher url = URL.matcher(output);
      url.find();
      Matcher token = TOKEN.matcher(output);
      token.find();
      HttpClient client = HttpClient.newHttpClient();
      HttpResponse<String> withToken =
          client.send(
              HttpRequest.newBuilder(URI.create(url.group(1) + "/api/v1/destinations"))
                  .header("Authorization", "Bearer " + token.group(1))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(withToken.statusCode()).isEqualTo(200);
      assertThat(withToken.body()).contains("salesforce", "slack");
      HttpResponse<String> without =
          client.send(
              HttpRequest.newBuilder(URI.create(url.group(1) + "/api/v1/destinations")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(without.statusCode()).isEqualTo(401);
      HttpResponse<String> dashboard =
          client.send(
              HttpRequest.newBuilder(URI.create(url.group(1) + "/ui")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(dashboard.statusCode()).isEqualTo(200);

      assertThat(process.waitFor(40, TimeUnit.SECONDS)).as("stops by itself").isTrue();
      reader.join(5_000);
      assertThat(process.exitValue()).as(output.toString()).isZero();
      assertThat(output.toString()).contains("demo: stopping");
      String lastLine = null;
      Matcher m = SUMMARY.matcher(output);
      while (m.find()) {
        lastLine = m.group();
      }
      assertThat(lastLine).as(output.toString()).isNotNull();
      Matcher last = SUMMARY.matcher(lastLine);
      assertThat(last.find()).isTrue();
      assertThat(Long.parseLong(last.group(1))).as("events accepted").isPositive();
      assertThat(Long.parseLong(last.group(3))).as("deliveries delivered").isPositive();
      assertThat(Long.parseLong(last.group(6))).as("records in the fake Salesforce").isPositive();
    } finally {
      process.destroyForcibly();
    }
  }

  private static final Pattern PULL_SUMMARY =
      Pattern.compile(
          "slack (\\d+) messages \\| genesys-queues (\\d+) pulled, (\\d+) duplicates, (\\d+)"
              + " reconnects, (\\d+) backfilled");

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void withGenesysPullThePulledSourceStoresTheFakesConversationsAndRoutesThemToSlack()
      throws Exception {
    String jar = System.getProperty("switchboard.jar", "target/switchboard.jar");
    assertThat(Path.of(jar)).as("the packaged jar (failsafe runs after package)").exists();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process =
        new ProcessBuilder(
                java,
                "-Xmx512m",
                "-jar",
                jar,
                "demo",
                "--genesys-pull",
                "--rate",
                "5",
                "--duration",
                "20s",
                "--port",
                "0")
            .redirectErrorStream(true)
            .start();
    StringBuffer output = new StringBuffer();
    Thread reader = Thread.ofPlatform().daemon().start(() -> copy(process, output));
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> URL.matcher(output).find() && TOKEN.matcher(output).find());
      assertThat(output.toString())
          .containsPattern(
              "genesys: +a fake Genesys Cloud at http://127\\.0\\.0\\.1:\\d+; source"
                  + " genesys-queues pulls a conversation a second");
      Matcher url = URL.matcher(output);
      url.find();
      Matcher token = TOKEN.matcher(output);
      token.find();
      HttpClient client = HttpClient.newHttpClient();
      HttpRequest sources =
          HttpRequest.newBuilder(URI.create(url.group(1) + "/api/v1/sources"))
              .header("Authorization", "Bearer " + token.group(1))
              .build();
      ObjectMapper json = new ObjectMapper();
      await()
          .atMost(Duration.ofSeconds(15))
          .untilAsserted(
              () -> {
                JsonNode answer =
                    json.readTree(
                        client.send(sources, HttpResponse.BodyHandlers.ofString()).body());
                JsonNode pulled = null;
                for (JsonNode source : answer.path("items")) {
                  if (source.path("name").asText().equals("genesys-queues")) {
                    pulled = source;
                  }
                }
                assertThat(pulled).as(answer.toString()).isNotNull();
                assertThat(pulled.path("type").asText()).isEqualTo("genesys-notifications");
                assertThat(pulled.path("pull").path("state").asText()).isEqualTo("connected");
                assertThat(pulled.path("pull").path("events").asLong()).isPositive();
              });

      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("stops by itself").isTrue();
      reader.join(5_000);
      assertThat(process.exitValue()).as(output.toString()).isZero();
      String lastLine = null;
      Matcher m = PULL_SUMMARY.matcher(output);
      while (m.find()) {
        lastLine = m.group();
      }
      assertThat(lastLine).as(output.toString()).isNotNull();
      Matcher last = PULL_SUMMARY.matcher(lastLine);
      assertThat(last.find()).isTrue();
      assertThat(Long.parseLong(last.group(2))).as("events pulled").isGreaterThanOrEqualTo(5);
      assertThat(Long.parseLong(last.group(1))).as("slack messages").isPositive();
    } finally {
      process.destroyForcibly();
    }
  }

  private static void copy(Process process, StringBuffer into) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      int c;
      while ((c = in.read()) >= 0) {
        into.append((char) c);
      }
    } catch (java.io.IOException e) {
      // the process ended
    }
  }
}
