package dev.switchboard.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.ingest.IngestRequest;
import dev.switchboard.ingest.IngestResponse;
import dev.switchboard.ingest.IngestService;
import dev.switchboard.ingest.Rejection;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.store.EventPage;
import dev.switchboard.store.EventQuery;
import dev.switchboard.store.EventStore;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.Purged;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * The ingest pipeline in-process (docs/guarantees.md, ingest checks), on fuzzed requests: every
 * answer is either an acceptance that stored the event exactly once, or a refusal from the
 * catalogue with its status and a JSON error body that echoes neither secret nor payload. Never the
 * catch-all 500.
 *
 * <p>Input: first line the source name (the path's {@code {source}}), then header lines, an empty
 * line and the body. {@link #signedRequestIsStoredOnceOrRefusedFromTheCatalogue} signs the body
 * itself, so the fuzzer gets past verification into JSON parsing, expressions, redaction and the
 * schema.
 */
class IngestFuzzTest {
  static final String SECRET = "fuzz-secret-0123456789";
  static final Instant NOW = Instant.parse("2026-10-27T14:30:00Z");
  static final ObjectMapper JSON = new ObjectMapper();
  static final Set<String> CODES =
      EnumSet.allOf(Rejection.class).stream().map(Rejection::code).collect(Collectors.toSet());

  static final String SOURCES =
      """
      sources:
        dispositions:
          verify:
            scheme: hmac-sha256-hex
            header: X-Genesys-Signature
            secrets: ["${SECRET}"]
          max_body: 4KB
          idempotency:
            key: interactionId & '|' & timestamp
            ttl: 48h
          event_time: timestamp
          partition_key: interactionId
          aliases:
            call.durationSeconds: callDurationSeconds
          redact:
            remove: [recordingUrls, mediaUrls]
            mask: [contact.phoneNumber]
            max_field_chars: 64
          keep_headers: [x-request-id]
        pe:
          verify:
            scheme: hmac-sha256-hex
            header: X-Signature
            prefix: "sha256="
            secrets: ["${SECRET}"]
          idempotency:
            key: webhookEventId
            required: false
          event_time: timestamp
          partition_key: contactId
          schema: pe.schema.json
          on_invalid: reject
        messaging:
          verify:
            preset: genesys-open-messaging
            secrets: ["${SECRET}"]
          idempotency:
            key: id
          event_time: channel.time
          partition_key: conversationId
          schema: pe.schema.json
      routes:
        resolved:
          from: dispositions
          when: disposition.code in ["RESOLVED", "FAILED"] and $number(callDurationSeconds) > 10
          to: crm
        all-pe:
          from: pe
          when: $contains(callOutcome, "answer")
          to: crm
      destinations:
        crm:
          type: http
          url: http://127.0.0.1:9/crm
      """;

  /** Built once per JVM: the config, a store that records, and the service under test. */
  static final class Pipeline {
    final RecordingStore store = new RecordingStore();
    final IngestService service;

    Pipeline() {
      try {
        Path dir = Files.createTempDirectory("ingest-fuzz");
        dir.toFile().deleteOnExit();
        Files.copy(
            GatewayFixture.EXAMPLES.resolve("pe-action-map.schema.json"),
            dir.resolve("pe.schema.json"));
        Path file = dir.resolve("switchboard.yaml");
        Files.writeString(
            file,
            "store:\n  path: " + dir.resolve("unused.db") + "\n" + SOURCES,
            StandardCharsets.UTF_8);
        SwitchboardConfig config = ConfigLoader.load(file, Map.of("SECRET", SECRET));
        service =
            new IngestService(
                config, store, Clock.fixed(NOW, ZoneOffset.UTC), new GatewayMetrics());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static Pipeline pipeline;

  private static synchronized Pipeline pipeline() {
    if (pipeline == null) {
      FuzzLogging.quietWhileFuzzing();
      pipeline = new Pipeline();
    }
    return pipeline;
  }

  @FuzzTest(maxDuration = "60s")
  void anyRequestIsAnsweredFromTheCatalogue(byte[] data) throws Exception {
    FuzzInput in = FuzzInput.parse(data);
    String method = in.headers().getOrDefault(":method", "POST");
    check(in.firstLine().strip(), method, in.headers(), in.body());
  }

  @FuzzTest(maxDuration = "60s")
  void signedRequestIsStoredOnceOrRefusedFromTheCatalogue(byte[] data) throws Exception {
    FuzzInput in = FuzzInput.parse(data);
    Map<String, String> headers = new HashMap<>(in.headers());
    headers.putIfAbsent("content-type", "application/json");
    String hex = Hmac.sha256Hex(SECRET, in.body());
    headers.put("x-genesys-signature", hex);
    headers.put("x-signature", "sha256=" + hex);
    headers.put("x-hub-signature-256", "sha256=" + Hmac.sha256Base64(SECRET, in.body()));
    String source = in.firstLine().strip();
    if (!Set.of("dispositions", "pe", "messaging").contains(source)) {
      source = "dispositions";
    }
    IngestResponse response = check(source, "POST", headers, in.body());
    assertThat(response.status()).as("a correctly signed request").isNotEqualTo(401);
  }

  private static IngestResponse check(
      String source, String method, Map<String, String> headers, byte[] body) throws Exception {
    Pipeline p = pipeline();
    long storedBefore = p.store.count.get();
    long declared = headers.containsKey("content-length") ? body.length : -1;
    IngestResponse response =
        p.service.handle(
            source,
            new IngestRequest(
                method,
                "127.0.0.1",
                declared,
                headers.get("content-type"),
                Map.copyOf(headers),
                new ByteArrayInputStream(body)));
    long stored = p.store.count.get() - storedBefore;
    Map<String, Object> answer = response.body();
    assertThat(response.status()).as("never the catch-all 500").isNotEqualTo(500);
    // the HTTP layer writes this map as the JSON body
    JsonNode written = JSON.readTree(JSON.writeValueAsBytes(answer));
    assertThat(written.isObject()).isTrue();
    if (response.status() >= 400) {
      assertThat(stored).as("a refused request stores nothing").isEqualTo(0L);
      String code = written.path("error").asText();
      assertThat(CODES).as("error code from the catalogue").contains(code);
      assertThat(Rejection.valueOf(code.toUpperCase(java.util.Locale.ROOT)).status())
          .isEqualTo(response.status());
      String message = written.path("message").asText(null);
      assertThat(message).as("every error has a message").isNotBlank();
      assertThat(message).doesNotContain(SECRET);
      // unknown_source quotes the path's source name, which the fuzzer may fill with anything
      String echoable =
          code.equals(Rejection.UNKNOWN_SOURCE.code())
              ? message.replace(
                  "no source named \""
                      + (source.length() > 80 ? source.substring(0, 80) + "…" : source)
                      + "\"",
                  "")
              : message;
      for (String value : headers.values()) {
        if (value.length() >= 16) {
          assertThat(echoable).as("no header value echoed").doesNotContain(value);
        }
      }
      for (String value : longStrings(body)) {
        if (SOURCES.contains(value)) {
          continue; // the message may quote the configuration (an expression), which has it too
        }
        assertThat(echoable).as("no payload value echoed").doesNotContain(value);
      }
      if (response.status() == 503 || response.status() == 429) {
        assertThat(response.headers()).containsKey("Retry-After");
      }
    } else {
      assertThat(response.status()).isIn(200, 202);
      assertThat(stored).as("an accepted request is stored exactly once").isEqualTo(1L);
      NewEvent event = p.store.last;
      String status = written.path("status").asText();
      assertThat(status).isIn("accepted", "quarantined");
      assertThat(written.path("eventId").asText()).isNotBlank();
      JsonNode payload = JSON.readTree(event.payload());
      if (source.equals("dispositions") && payload.isObject()) {
        assertThat(payload.has("recordingUrls")).as("redacted before storing").isFalse();
        assertThat(payload.has("mediaUrls")).as("redacted before storing").isFalse();
      }
      assertThat(event.headers().keySet())
          .as("no secret header kept")
          .doesNotContain("x-genesys-signature", "x-signature", "x-hub-signature-256");
      assertThat(event.eventTime()).isNotNull();
    }
    return response;
  }

  /** String values of the body, if it is JSON, long enough that an echo cannot be chance. */
  private static List<String> longStrings(byte[] body) {
    List<String> found = new ArrayList<>();
    try {
      collect(JSON.readTree(body), found);
    } catch (Exception e) {
      // not JSON: nothing to look for
    }
    return found;
  }

  private static void collect(JsonNode node, List<String> found) {
    if (node == null) {
      return;
    }
    if (node.isTextual() && node.asText().length() >= 12) {
      found.add(node.asText());
    }
    node.properties().forEach(e -> collect(e.getValue(), found));
    if (node.isArray()) {
      node.forEach(n -> collect(n, found));
    }
  }

  /** Stores nothing: every event is new, and each call is counted. */
  static final class RecordingStore implements EventStore {
    final java.util.concurrent.atomic.AtomicLong count =
        new java.util.concurrent.atomic.AtomicLong();
    volatile NewEvent last;

    @Override
    public CompletableFuture<IngestOutcome> ingest(NewEvent event) {
      last = event;
      count.incrementAndGet();
      return CompletableFuture.completedFuture(
          new IngestOutcome.Accepted(EventId.generate(event.receivedAt())));
    }

    @Override
    public Optional<Event> findEvent(EventId id) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<java.time.Instant> pullCoverage(String source) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void savePullCoverage(String source, java.time.Instant coveredUntil) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<Event> findEvents(String source, EventStatus status, int limit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public EventPage searchEvents(EventQuery query) {
      throw new UnsupportedOperationException();
    }

    @Override
    public long countEvents() {
      return count.get();
    }

    @Override
    public long countEvents(dev.switchboard.store.EventQuery query) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean release(dev.switchboard.store.QuarantineRelease release) {
      throw new UnsupportedOperationException();
    }

    @Override
    public long countUnfinishedDeliveries() {
      return 0;
    }

    @Override
    public long countUnfinishedDeliveries(String destination) {
      return 0;
    }

    @Override
    public Purged purgeHistory(
        Instant now,
        Duration delivered,
        Duration dead,
        java.util.function.Consumer<Purged> eachBatch) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean isWritable() {
      return true;
    }

    @Override
    public void close() {}
  }
}
