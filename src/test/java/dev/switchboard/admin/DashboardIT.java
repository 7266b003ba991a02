package dev.switchboard.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.demo.genesys.FakeGenesysCloud;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.io.File;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard at {@code /ui} in a real headless Chromium (Debian's {@code chromium} and {@code
 * chromedriver}) against a real gateway with a fake destination: log in, see the ingest chart with
 * data, search an event and open its attempts, replay a dead letter and see it delivered, watch a
 * source pulled from a fake Genesys Cloud. Screenshots go to {@code target/screenshots/}.
 */
@Timeout(120)
class DashboardIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TOKEN = "dashb0ard-token-for-tests";
  static final String SECRET = "webhook-s3cret";
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final Path SCREENSHOTS = Path.of("target", "screenshots");

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.now());
  final FakeDestination crm = new FakeDestination();
  GatewayFixture gw;
  ChromeDriver browser;
  WebDriverWait wait;

  @BeforeEach
  void start() throws Exception {
    assertThat(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER))
        .as(
            "DashboardIT needs Debian's headless Chromium and its driver at %s and %s: install"
                + " them with `apt-get install -y chromium chromium-driver` (.ci/run does this)",
            CHROMIUM, CHROMEDRIVER)
        .isTrue();
    String yaml =
        """
        admin: { token: "${ADMIN_TOKEN}" }
        sources:
          calls:
            verify: { scheme: hmac-sha256-hex, header: X-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: interactionId }
            partition_key: interactionId
          forms:
            verify: { scheme: none }
            schema: form.schema.json
        routes:
          to-crm: { from: calls, to: crm }
          forms-to-crm: { from: forms, to: crm }
        destinations:
          crm:
            type: http
            url: ${CRM}
        """;
    Files.writeString(
        dir.resolve("form.schema.json"), "{\"type\":\"object\",\"required\":[\"formId\"]}");
    gw =
        GatewayFixture.start(
            dir,
            yaml,
            Map.of("ADMIN_TOKEN", TOKEN, "SECRET", SECRET, "CRM", crm.uri("/in").toString()),
            clock);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000");
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
    browser = new ChromeDriver(service, options);
    browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20));
    wait = new WebDriverWait(browser, Duration.ofSeconds(15));
    Files.createDirectories(SCREENSHOTS);
  }

  @AfterEach
  void stop(TestInfo test) throws Exception {
    if (browser != null) {
      screenshot("99-last-state-" + test.getTestMethod().orElseThrow().getName());
      browser.quit();
    }
    if (gw != null) {
      gw.close();
    }
    crm.close();
  }

  String postCall(String interactionId) throws Exception {
    byte[] body =
        GatewayFixture.utf8(
            "{\"interactionId\":\"%s\",\"queue\":\"support\"}".formatted(interactionId));
    HttpResponse<String> r =
        gw.post("calls", body, Map.of("X-Signature", Hmac.sha256Hex(SECRET, body)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord delivery(String eventId) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).getFirst();
  }

  void screenshot(String name) throws Exception {
    File shot = browser.getScreenshotAs(OutputType.FILE);
    Files.copy(
        shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  WebElement visible(By by) {
    return wait.until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  @Test
  void logInSeeChartsFindAnEventAndReplayADeadLetter() throws Exception {
    // the destination refuses the first event for good (400 → dead letter), then accepts
    crm.answer(Answer.status(400).body("{\"error\":\"missing field\"}"));
    String deadEvent = postCall("call-dead-7");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> delivery(deadEvent).state() == DeliveryState.DEAD);
    String okEvent = postCall("call-ok-42");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> delivery(okEvent).state() == DeliveryState.DELIVERED);
    String deadDelivery = delivery(deadEvent).id().value();

    // the page needs no token to load; a wrong token is refused on the login form
    browser.get(gw.uri("/ui").toString());
    visible(By.id("token")).sendKeys("not-the-token");
    browser.findElement(By.id("login-submit")).click();
    assertThat(visible(By.id("login-error")).getText()).contains("not accepted");
    screenshot("01-login-refused");
    WebElement token = browser.findElement(By.id("token"));
    assertThat(token.getDomProperty("value")).as("a refused token is not kept").isEmpty();
    token.sendKeys(TOKEN);
    browser.findElement(By.id("login-submit")).click();

    // overview: the ingest chart has the two events
    WebElement ingest = visible(By.id("chart-ingest"));
    wait.until(d -> "2".equals(ingest.getDomAttribute("data-total")));
    assertThat(Integer.parseInt(ingest.getDomAttribute("data-points"))).isPositive();
    assertThat(ingest.getSize().getHeight()).isPositive();
    // the dead letter is an operational event of the built-in source, listed on the overview
    WebElement operational =
        wait.until(
            ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("#operational-list li[data-type='delivery.dead']")));
    assertThat(operational.getText()).contains("delivery.dead").contains("dead letter");
    screenshot("02-overview");

    // events: search the payload text, open the event, see its attempt
    browser.findElement(By.cssSelector("nav a[data-page=events]")).click();
    WebElement q = visible(By.id("q"));
    q.sendKeys("call-ok-42");
    browser.findElement(By.id("search")).click();
    wait.until(
        d ->
            d.findElements(By.cssSelector("#event-table tbody tr")).size() == 1
                && d.findElement(By.cssSelector("#event-table tbody tr"))
                    .getDomAttribute("data-id")
                    .equals(okEvent));
    browser.findElement(By.cssSelector("#event-table tbody tr")).click();
    WebElement attempt = visible(By.cssSelector("#deliveries .attempt"));
    assertThat(attempt.getText()).contains("#1").contains("HTTP 202");
    assertThat(browser.findElement(By.id("payload")).getText()).contains("call-ok-42");
    WebElement body = browser.findElement(By.cssSelector("#deliveries details.body"));
    body.findElement(By.tagName("summary")).click();
    wait.until(d -> body.findElement(By.tagName("pre")).getText().contains("call-ok-42"));
    screenshot("03-event-attempts");

    // dead letters: the refused one is listed; replay it; the destination now accepts it
    browser.findElement(By.cssSelector("nav a[data-page=dead-letters]")).click();
    WebElement row = visible(By.cssSelector("#dlq-table tr[data-id='" + deadDelivery + "']"));
    assertThat(row.getText()).contains("to-crm").contains("crm");
    screenshot("04-dead-letters");
    row.findElement(By.cssSelector("input.pick")).click();
    browser.findElement(By.id("replay-selected")).click();
    wait.until(ExpectedConditions.textToBe(By.id("flash"), flashText()));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> delivery(deadEvent).state() == DeliveryState.DELIVERED);
    assertThat(crm.requests()).filteredOn(r -> r.bodyText().contains("call-dead-7")).hasSize(2);

    // the event's page shows the delivery delivered, with both attempts
    browser.get(gw.uri("/ui/#/events/" + deadEvent).toString());
    wait.until(
        d ->
            "delivered"
                .equals(
                    d.findElement(By.cssSelector("#deliveries .delivery"))
                        .getDomAttribute("data-state")));
    assertThat(browser.findElements(By.cssSelector("#deliveries .attempt"))).hasSize(2);
    screenshot("05-replayed-and-delivered");

    // and the dead letters page now says there are none, and what the page is for
    browser.findElement(By.cssSelector("nav a[data-page=dead-letters]")).click();
    assertThat(visible(By.cssSelector("#dlq-results .empty")).getText())
        .contains("No dead letters");
    screenshot("06-dead-letters-empty");

    // sources: a request with a wrong signature shows as one 401 rejection
    byte[] forged = GatewayFixture.utf8("{\"interactionId\":\"call-forged\"}");
    HttpResponse<String> refused =
        gw.post("calls", forged, Map.of("X-Signature", Hmac.sha256Hex("wrong", forged)));
    assertThat(refused.statusCode()).isEqualTo(401);
    browser.findElement(By.cssSelector("nav a[data-page=sources]")).click();
    WebElement calls = visible(By.cssSelector("#source-table tr[data-name=calls]"));
    assertThat(calls.findElement(By.cssSelector("td[data-status='401']")).getText()).isEqualTo("1");
    assertThat(calls.findElement(By.cssSelector("td[data-status='413']")).getText()).isEqualTo("0");
    screenshot("07-sources");

    // destinations: pause, then resume, through the page; the gateway holds the state
    browser.findElement(By.cssSelector("nav a[data-page=destinations]")).click();
    visible(By.cssSelector("button[data-toggle=crm][data-action=pause]")).click();
    visible(By.cssSelector("button[data-toggle=crm][data-action=resume]"));
    assertThat(destinationPaused()).isTrue();
    screenshot("08-destination-paused");
    browser.findElement(By.cssSelector("button[data-toggle=crm][data-action=resume]")).click();
    visible(By.cssSelector("button[data-toggle=crm][data-action=pause]"));
    assertThat(destinationPaused()).isFalse();
  }

  @Test
  void aQuarantinedEventHasAReleaseButtonThatSaysWhyItStillFails() throws Exception {
    HttpResponse<String> posted = gw.post("forms", GatewayFixture.utf8("{\"name\":1}"), Map.of());
    assertThat(posted.body()).contains("quarantined");
    String id = JSON.readTree(posted.body()).path("eventId").asText();
    browser.get(gw.uri("/ui").toString());
    visible(By.id("token")).sendKeys(TOKEN);
    browser.findElement(By.id("login-submit")).click();
    visible(By.id("chart-ingest"));
    browser.get(gw.uri("/ui/#/events/" + id).toString());
    assertThat(visible(By.cssSelector("#deliveries .empty")).getText()).contains("release it");
    visible(By.id("release")).click();
    wait.until(
        ExpectedConditions.textMatches(By.id("flash"), Pattern.compile("stays quarantined")));
    assertThat(browser.findElement(By.id("flash")).getText()).contains("formId");
    assertThat(gw.gateway().deliveries().deliveriesOf(new EventId(id))).isEmpty();
    screenshot("12-quarantine-still-fails");
  }

  @Test
  void aFreshGatewaySaysWhatToDoOnEveryEmptyPage() throws Exception {
    browser.get(gw.uri("/ui").toString());
    visible(By.id("token")).sendKeys(TOKEN);
    browser.findElement(By.id("login-submit")).click();
    assertThat(visible(By.id("overview-empty")).getText()).contains("/hooks/<source>");
    wait.until(d -> "0".equals(d.findElement(By.id("chart-ingest")).getDomAttribute("data-total")));
    screenshot("10-empty-overview");

    browser.findElement(By.cssSelector("nav a[data-page=events]")).click();
    assertThat(visible(By.cssSelector("#event-results .empty")).getText())
        .contains("No events match")
        .contains("/hooks/");
    browser.findElement(By.cssSelector("nav a[data-page=dead-letters]")).click();
    assertThat(visible(By.cssSelector("#dlq-results .empty")).getText())
        .contains("Deliveries that fail for good land here");
    screenshot("11-empty-dead-letters");

    // signing out forgets the token: the next load asks for it again
    browser.findElement(By.id("logout")).click();
    browser.navigate().refresh();
    assertThat(visible(By.id("token")).getDomProperty("value")).isEmpty();
    assertThat(browser.findElement(By.id("shell")).isDisplayed()).isFalse();
  }

  @Test
  void anEventsPageSaysWhyADeliveryWasSkippedFilteredOrStaleNotThatItWaitsForAnAttempt()
      throws Exception {
    gw.close();
    String yaml =
        """
        admin: { token: "${ADMIN_TOKEN}" }
        sources:
          calls:
            verify: { scheme: hmac-sha256-hex, header: X-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: interactionId & '|' & at }
            event_time: at
            partition_key: interactionId
        routes:
          vip-only: { from: calls, when: queue = "vip", to: crm }
          latest: { from: calls, ordering: per-key, stale: skip, to: crm }
          follow-up: { from: calls, delay: 1h, to: crm }
        destinations:
          crm:
            type: http
            url: ${CRM}
        """;
    gw =
        GatewayFixture.start(
            Files.createDirectories(dir.resolve("skips")),
            yaml,
            Map.of("ADMIN_TOKEN", TOKEN, "SECRET", SECRET, "CRM", crm.uri("/in").toString()),
            clock);
    String newer = postCallAt("call-9", "2026-12-01T10:00:00Z");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> deliveryOf(newer, "latest").state() == DeliveryState.DELIVERED);
    String older = postCallAt("call-9", "2026-12-01T09:00:00Z");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> deliveryOf(older, "latest").state() == DeliveryState.SKIPPED);
    assertThat(deliveryOf(newer, "vip-only").state()).isEqualTo(DeliveryState.SKIPPED);

    browser.get(gw.uri("/ui").toString());
    visible(By.id("token")).sendKeys(TOKEN);
    browser.findElement(By.id("login-submit")).click();
    visible(By.id("chart-ingest"));

    // the filtered delivery: the route's `when` is false for this event
    browser.get(gw.uri("/ui/#/events/" + newer).toString());
    WebElement filtered = visible(deliveryBox(deliveryOf(newer, "vip-only").id().value()));
    assertThat(filtered.getDomAttribute("data-state")).isEqualTo("skipped");
    assertThat(filtered.getText())
        .contains("Filtered out")
        .contains("when is false")
        .doesNotContain("Not attempted yet");
    screenshot("12-delivery-filtered");

    // the stale delivery: a newer event of the same key was already delivered
    browser.get(gw.uri("/ui/#/events/" + older).toString());
    WebElement stale = visible(deliveryBox(deliveryOf(older, "latest").id().value()));
    assertThat(stale.getText())
        .contains("Stale")
        .contains("already delivered")
        .doesNotContain("Not attempted yet");
    screenshot("13-delivery-stale");

    // the delayed delivery: scheduled for an hour after the event was received
    browser.get(gw.uri("/ui/#/events/" + newer).toString());
    WebElement scheduled = visible(deliveryBox(deliveryOf(newer, "follow-up").id().value()));
    assertThat(scheduled.getDomAttribute("data-state")).isEqualTo("pending");
    assertThat(scheduled.getText())
        .contains("scheduled")
        .contains("Scheduled for")
        .doesNotContain("Not attempted yet");
  }

  String postCallAt(String interactionId, String at) throws Exception {
    byte[] body =
        GatewayFixture.utf8(
            "{\"interactionId\":\"%s\",\"queue\":\"support\",\"at\":\"%s\"}"
                .formatted(interactionId, at));
    HttpResponse<String> r =
        gw.post("calls", body, Map.of("X-Signature", Hmac.sha256Hex(SECRET, body)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord deliveryOf(String eventId, String route) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).stream()
        .filter(d -> d.route().equals(route))
        .findFirst()
        .orElseThrow();
  }

  static By deliveryBox(String deliveryId) {
    return By.cssSelector("#deliveries .delivery[data-delivery='" + deliveryId + "']");
  }

  @Test
  void aPulledSourceShowsItsStateChannelsAndCountersAndNoWebhookPath() throws Exception {
    gw.close();
    try (FakeGenesysCloud genesys = FakeGenesysCloud.start("client", "secret")) {
      String yaml =
          """
          admin: { token: "${ADMIN_TOKEN}" }
          sources:
            genesys:
              type: genesys-notifications
              login_url: %s
              api_url: %s
              client_id: client
              client_secret: ${GENESYS_SECRET}
              queues: ["q-1"]
              topics: ["v2.routing.queues.{id}.conversations"]
          routes: { to-crm: { from: genesys, to: crm } }
          destinations: { crm: { type: http, url: "%s" } }
          """
              .formatted(genesys.baseUrl(), genesys.baseUrl(), crm.uri("/in"));
      // the source's channel timers and coverage run on real time, not the test's fixed clock
      gw =
          GatewayFixture.start(
              Files.createDirectories(dir.resolve("pulled")),
              "",
              "",
              yaml,
              Map.of("ADMIN_TOKEN", TOKEN, "GENESYS_SECRET", "secret"),
              Clock.systemUTC());
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> "connected".equals(pullOf("genesys").path("state").asText()));
      Instant now = Instant.now();
      genesys.conversation("q-1", now.minusSeconds(300), now.minusSeconds(10), "resolved");
      genesys.conversation("q-1", now.minusSeconds(200), now, "sale");
      await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 2);

      browser.get(gw.uri("/ui").toString());
      visible(By.id("token")).sendKeys(TOKEN);
      browser.findElement(By.id("login-submit")).click();
      visible(By.id("chart-ingest"));
      browser.findElement(By.cssSelector("nav a[data-page=sources]")).click();

      // the table row: its type instead of a /hooks path, its state instead of a signature scheme
      WebElement row = visible(By.cssSelector("#source-table tr[data-name=genesys]"));
      assertThat(row.getText())
          .contains("Genesys Cloud notifications")
          .contains("connected")
          .doesNotContain("/hooks/");
      assertThat(browser.findElement(By.id("main")).getText())
          .doesNotContain("/hooks/genesys")
          .doesNotContain("/hooks/null");

      // the card: connected, one channel of one topic, both events counted (the page refreshes)
      By card = By.cssSelector("#pull-sources .pull[data-name=genesys]");
      wait.until(d -> "2".equals(d.findElement(card).findElement(counter("events")).getText()));
      WebElement pull = browser.findElement(card);
      assertThat(pull.findElement(By.cssSelector("[data-field=state] .badge.ok")).getText())
          .isEqualTo("connected");
      assertThat(pull.findElement(By.cssSelector("[data-field=topics]")).getText()).isEqualTo("1");
      List<WebElement> channels = pull.findElements(By.cssSelector("table.channels tbody tr"));
      assertThat(channels).hasSize(1);
      assertThat(channels.getFirst().getDomAttribute("data-channel"))
          .isEqualTo(pullOf("genesys").path("channels").path(0).path("id").asText())
          .isNotBlank();
      assertThat(channels.getFirst().getText()).contains("ago").contains("in ");
      assertThat(pull.findElement(counter("duplicates")).getText()).isEqualTo("0");
      assertThat(pull.findElement(counter("errors")).getText()).isEqualTo("0");
      assertThat(pull.findElement(By.cssSelector("[data-field=lastMessageAt]")).getText())
          .endsWith("ago");
      assertThat(pull.findElement(By.cssSelector("[data-field=backfilling]")).getText())
          .isEqualTo("no");
      assertThat(pull.findElement(By.cssSelector("[data-field=lastError]")).getText())
          .isEqualTo("none");
      screenshot("14-pulled-source");
    }
  }

  JsonNode pullOf(String source) throws Exception {
    HttpResponse<String> r =
        gw.send(
            java.net.http.HttpRequest.newBuilder(gw.uri("/api/v1/sources"))
                .header("Authorization", "Bearer " + TOKEN)
                .GET()
                .build());
    assertThat(r.statusCode()).isEqualTo(200);
    for (JsonNode s : JSON.readTree(r.body()).path("items")) {
      if (s.path("name").asText().equals(source)) {
        return s.path("pull");
      }
    }
    throw new AssertionError("no source " + source + " in " + r.body());
  }

  static By counter(String name) {
    return By.cssSelector("[data-counter=" + name + "] .value");
  }

  @Test
  void servesOnlyItsOwnFilesWithoutATokenAndChartJsFromTheJar() throws Exception {
    assertThat(gw.get("/ui").statusCode()).isEqualTo(200);
    assertThat(gw.get("/ui/").body()).contains("<title>Switchboard</title>");
    HttpResponse<String> chart = gw.get("/ui/vendor/chart.umd.js");
    assertThat(chart.statusCode()).isEqualTo(200);
    assertThat(chart.headers().firstValue("Content-Type").orElse("")).startsWith("text/javascript");
    assertThat(chart.body()).contains("Chart.js v4.5.1");
    assertThat(gw.get("/ui/../switchboard.yaml").statusCode()).isIn(400, 404);
    assertThat(gw.get("/ui/logback.xml").statusCode()).isEqualTo(404);
    // the API behind the page still wants the token
    assertThat(gw.get("/api/v1/sources").statusCode()).isEqualTo(401);
  }

  private boolean destinationPaused() throws Exception {
    HttpResponse<String> r =
        gw.send(
            java.net.http.HttpRequest.newBuilder(gw.uri("/api/v1/destinations/crm"))
                .header("Authorization", "Bearer " + TOKEN)
                .GET()
                .build());
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body()).path("paused").asBoolean();
  }

  private static String flashText() {
    return "1 replayed: they are queued for delivery again.";
  }
}
