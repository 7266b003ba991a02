package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.switchboard.config.RouteConfig.Ordering;
import dev.switchboard.config.RouteConfig.Stale;
import dev.switchboard.config.SourceConfig.OnInvalid;
import dev.switchboard.destination.genesys.GenesysEnricher;
import dev.switchboard.destination.http.HttpDestinationSettings;
import dev.switchboard.destination.jdbc.JdbcDestinationSettings;
import dev.switchboard.destination.jira.JiraDestinationSettings;
import dev.switchboard.destination.kafka.KafkaDestinationSettings;
import dev.switchboard.destination.salesforce.SalesforceSettings;
import dev.switchboard.expr.Expression;
import dev.switchboard.testing.TestCertificates;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  /** The contract examples in the repository (tests run with the project as working dir). */
  static final Path EXAMPLES = Path.of("examples");

  static final Path SALESFORCE_EXAMPLE = example("genesys-to-salesforce.yaml");
  static final Path EVERYTHING_EXAMPLE = example("genesys-cloud-to-everything.yaml");

  /** Every variable the two examples reference without a default. */
  static Map<String, String> exampleEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("SWITCHBOARD_ADMIN_TOKEN", "admin-token");
    env.put("GENESYS_WEBHOOK_SECRET", "genesys-secret");
    env.put("PE_WEBHOOK_SECRET", "pe-secret");
    env.put("SF_LOGIN_URL", "https://acme.my.salesforce.com");
    env.put("SF_CLIENT_ID", "sf-client");
    env.put("SF_CLIENT_SECRET", "sf-secret");
    env.put("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/X");
    env.put("CRM_WEBHOOK_URL", "https://crm.example.com/hooks/genesys");
    env.put("EVENTBRIDGE_API_KEY", "eb-key");
    env.put("GENESYS_OM_SECRET", "om-secret");
    env.put("GENESYS_DATA_ACTION_PASSWORD", "da-password");
    env.put("GENESYS_CLIENT_ID", "gc-client");
    env.put("GENESYS_CLIENT_SECRET", "gc-secret");
    env.put("TRACKING_DB_URL", "jdbc:postgresql://db.internal:5432/crm");
    env.put("TRACKING_DB_USER", "tracker");
    env.put("TRACKING_DB_PASSWORD", "tracker-password");
    env.put("JIRA_BASE_URL", "https://acme.atlassian.net");
    env.put("JIRA_EMAIL", "ops@example.com");
    env.put("JIRA_API_TOKEN", "jira-token");
    env.put("POWER_AUTOMATE_FLOW_A_URL", "https://prod.westus.logic.azure.com/workflows/1?sig=abc");
    env.put("ZAPIER_HOOK_URL", "https://hooks.zapier.com/hooks/catch/1/abc/");
    env.put("PARTNER_WEBHOOK_URL", "https://partner.example.com/webhooks");
    env.put("PARTNER_SIGNING_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    return env;
  }

  @Test
  void salesforceExampleLoadsWithItsValues() throws Exception {
    SwitchboardConfig config = ConfigLoader.load(SALESFORCE_EXAMPLE, exampleEnv());

    assertThat(config.sources()).containsOnlyKeys("genesys-dispositions", "pe-action-map");
    SourceConfig dispositions = config.sources().get("genesys-dispositions");
    assertThat(dispositions.verify().scheme()).isEqualTo("hmac-sha256-hex");
    assertThat(dispositions.verify().header()).isEqualTo("X-Genesys-Signature");
    assertThat(dispositions.verify().secrets()).containsExactly("genesys-secret");
    assertThat(dispositions.verify().tolerance()).isEqualTo(VerifyConfig.DEFAULT_TOLERANCE);
    assertThat(dispositions.allowIps()).containsExactly("0.0.0.0/0", "::/0");
    assertThat(dispositions.maxBodyBytes()).isEqualTo(1_048_576);
    assertThat(dispositions.idempotency().ttl()).isEqualTo(Duration.ofHours(48));
    assertThat(dispositions.idempotency().required()).isTrue();
    assertThat(dispositions.idempotency().key().text())
        .isEqualTo("interactionId & '|' & timestamp");
    assertThat(dispositions.partitionKey().text()).isEqualTo("interactionId");
    assertThat(dispositions.redact().remove()).containsExactly("recordingUrls", "mediaUrls");
    assertThat(dispositions.redact().mask()).containsExactly("contact.phoneNumber");
    assertThat(dispositions.acceptedStatus()).isEqualTo(202);
    assertThat(dispositions.duplicateStatus()).isEqualTo(200);
    assertThat(dispositions.schema()).isNull();

    SourceConfig pe = config.sources().get("pe-action-map");
    assertThat(pe.maxBodyBytes()).isEqualTo(256 * 1024);
    assertThat(pe.onInvalid()).isEqualTo(OnInvalid.QUARANTINE);
    assertThat(pe.schema()).isAbsolute().exists();
    assertThat(pe.schema())
        .isEqualTo(EXAMPLES.resolve("pe-action-map.schema.json").toAbsolutePath().normalize());

    RouteConfig toSalesforce = config.routes().get("dispositions-to-salesforce");
    assertThat(toSalesforce.from()).isEqualTo("genesys-dispositions");
    assertThat(toSalesforce.to()).isEqualTo("salesforce-disposition-log");
    assertThat(toSalesforce.ordering()).isEqualTo(Ordering.PER_KEY);
    assertThat(toSalesforce.stale()).isEqualTo(Stale.SKIP);
    assertThat(toSalesforce.when()).isNotNull();
    assertThat(toSalesforce.transform()).isNotNull();
    assertThat(config.routes().get("failed-to-slack").ordering()).isEqualTo(Ordering.NONE);

    DestinationConfig salesforce = config.destinations().get("salesforce-disposition-log");
    assertThat(salesforce.type()).isEqualTo("salesforce");
    assertThat(salesforce.settings())
        .isInstanceOfSatisfying(
            SalesforceSettings.class,
            s -> {
              assertThat(s.batchSize()).isEqualTo(200);
              assertThat(s.object()).isEqualTo("Disposition_Log__c");
              assertThat(s.externalIdField()).isEqualTo("Interaction_ID__c");
              assertThat(s.apiVersion()).isEqualTo("62.0");
              assertThat(s.operation()).isEqualTo(SalesforceSettings.Operation.UPSERT);
              assertThat(s.loginUrl()).isEqualTo(URI.create("https://acme.my.salesforce.com"));
              assertThat(s.clientSecret()).isEqualTo("sf-secret");
            });
    assertThat(salesforce.rateLimit()).isEqualTo(new RateLimit(50, Duration.ofMinutes(1)));
    assertThat(salesforce.retry())
        .isEqualTo(
            new DestinationConfig.Retry(
                Duration.ofSeconds(1), Duration.ofMinutes(15), 0, Duration.ofHours(24)));
    assertThat(salesforce.concurrency()).isEqualTo(16);
    assertThat(salesforce.timeout()).isEqualTo(Duration.ofSeconds(30));

    DestinationConfig crm = config.destinations().get("crm-webhook");
    HttpDestinationSettings crmSettings = (HttpDestinationSettings) crm.settings();
    assertThat(crmSettings.method()).isEqualTo("POST");
    assertThat(crmSettings.headers()).isEqualTo(Map.of("X-Source", "switchboard"));
    assertThat(crm.timeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(crm.concurrency()).isEqualTo(8);
    assertThat(crm.retry().maxAttempts()).isEqualTo(12);
    assertThat(crm.retry().maxAge()).isEqualTo(DestinationConfig.Retry.DEFAULT.maxAge());
    assertThat(config.destinations().get("slack-alerts").rateLimit())
        .isEqualTo(new RateLimit(1, Duration.ofSeconds(1)));

    assertThat(config.server().port()).isEqualTo(8080);
    assertThat(config.server().host()).isEqualTo("0.0.0.0");
    assertThat(config.store().type()).isEqualTo("sqlite");
    assertThat(config.store().path()).isEqualTo("data/switchboard.db");
    assertThat(config.admin().token()).isEqualTo("admin-token");
  }

  @Test
  void everythingExampleLoadsWithItsValues() throws Exception {
    SwitchboardConfig config = ConfigLoader.load(EVERYTHING_EXAMPLE, exampleEnv());

    assertThat(config.sources())
        .containsOnlyKeys("genesys-eventbridge", "genesys-messaging", "genesys-workflow");
    VerifyConfig messaging = config.sources().get("genesys-messaging").verify();
    assertThat(messaging.preset()).isEqualTo("genesys-open-messaging");
    assertThat(messaging.scheme()).isNull();
    assertThat(config.sources().get("genesys-workflow").verify().secrets())
        .containsExactly("switchboard:da-password");
    assertThat(config.sources().get("genesys-messaging").idempotency().ttl())
        .isEqualTo(Duration.ofHours(24));

    EnricherConfig genesys = config.enrichers().get("genesys-prod");
    assertThat(genesys.type()).isEqualTo("genesys-cloud");
    assertThat(genesys.rateLimit()).isEqualTo(new RateLimit(300, Duration.ofMinutes(1)));
    assertThat(genesys.settings())
        .isEqualTo(
            new GenesysEnricher.Settings(
                URI.create("https://login.mypurecloud.com"),
                URI.create("https://api.mypurecloud.com"),
                "gc-client",
                "gc-secret"));

    RouteConfig acw = config.routes().get("acw-to-kafka");
    assertThat(acw.enrich().using()).isEqualTo("genesys-prod");
    assertThat(acw.enrich().as()).isEqualTo("details");
    assertThat(acw.enrich().path()).isNotNull();
    assertThat(config.routes().get("acw-to-tracking-table").ordering()).isEqualTo(Ordering.PER_KEY);
    assertThat(config.routes().get("everything-to-partner").when()).isNull();
    assertThat(config.routes().get("dispositions-to-flow-a").transform()).isNull();

    KafkaDestinationSettings kafka =
        (KafkaDestinationSettings) config.destinations().get("kafka-acw").settings();
    assertThat(kafka.bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(kafka.topic()).isEqualTo("genesys.acw");
    assertThat(kafka.key()).isEqualTo(Expression.compile("conversationId"));
    assertThat(kafka.properties()).isEqualTo(Map.of("compression.type", "zstd"));
    assertThat(
            ((JdbcDestinationSettings) config.destinations().get("tracking-table").settings())
                .keyColumns())
        .isEqualTo(List.of("conversation_id"));
    JiraDestinationSettings jira =
        (JiraDestinationSettings) config.destinations().get("jira-ops").settings();
    assertThat(jira.issueType()).isEqualTo("Task");
    assertThat(jira.searchLag()).isEqualTo(Duration.ofSeconds(60));
    assertThat(
            ((HttpDestinationSettings)
                    config.destinations().get("power-automate-flow-a").settings())
                .preset())
        .isEqualTo(HttpDestinationSettings.Preset.POWER_AUTOMATE);
    DestinationConfig partner = config.destinations().get("partner-webhook");
    assertThat(((HttpDestinationSettings) partner.settings()).signSecret())
        .isEqualTo("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assertThat(partner.retry().maxAge()).isEqualTo(Duration.ofDays(3));
    assertThat(partner.retry().maxDelay()).isEqualTo(Duration.ofHours(10));
    // the longest wait the destination may ask for defaults to max_delay
    assertThat(partner.retry().maxServerDelay()).isEqualTo(Duration.ofHours(10));
  }

  @Test
  void portDefaultAppliesWhenUnsetAndEnvironmentOverridesIt() throws Exception {
    assertThat(ConfigLoader.load(SALESFORCE_EXAMPLE, exampleEnv()).server().port()).isEqualTo(8080);

    Map<String, String> env = exampleEnv();
    env.put("PORT", "9090");
    env.put("DATA_DIR", "/var/lib/switchboard");
    SwitchboardConfig config = ConfigLoader.load(SALESFORCE_EXAMPLE, env);
    assertThat(config.server().port()).isEqualTo(9090);
    assertThat(config.store().path()).isEqualTo("/var/lib/switchboard/switchboard.db");
  }

  @Test
  void emptyVariableFallsBackToTheDefault() throws Exception {
    Map<String, String> env = exampleEnv();
    env.put("PORT", "");
    assertThat(ConfigLoader.load(SALESFORCE_EXAMPLE, env).server().port()).isEqualTo(8080);
  }

  @Test
  void missingVariableIsReportedWithItsLineAndPath() throws Exception {
    Map<String, String> env = exampleEnv();
    env.remove("GENESYS_WEBHOOK_SECRET");

    ConfigException e = loadFailing(SALESFORCE_EXAMPLE, env);

    assertThat(e.problems())
        .containsExactly(
            new ConfigProblem(
                SALESFORCE_EXAMPLE.toString(),
                lineContaining(SALESFORCE_EXAMPLE, "${GENESYS_WEBHOOK_SECRET}"),
                "sources.genesys-dispositions.verify.secrets[0]",
                "environment variable GENESYS_WEBHOOK_SECRET is not set"));
  }

  @Test
  void everyMissingVariableIsReported() throws Exception {
    Map<String, String> env = exampleEnv();
    env.remove("SF_CLIENT_SECRET");
    env.remove("PARTNER_SIGNING_SECRET");

    assertThat(loadFailing(SALESFORCE_EXAMPLE, env).problems())
        .extracting(ConfigProblem::path)
        .containsExactly("destinations.salesforce-disposition-log.client_secret");
    assertThat(loadFailing(EVERYTHING_EXAMPLE, env).problems())
        .extracting(ConfigProblem::path)
        .containsExactly("destinations.partner-webhook.sign.secret");
  }

  @Test
  void fileSubstitutionReadsTheFileWithoutItsTrailingNewline(@TempDir Path dir) throws Exception {
    Path secret = Files.writeString(dir.resolve("genesys.secret"), "from-a-file\n");
    Path config =
        Files.writeString(
            dir.resolve("switchboard.yaml"),
            """
            sources:
              orders:
                verify:
                  scheme: hmac-sha256-hex
                  secrets: ["${file:%s}", "${file:genesys.secret}"]
            """
                .formatted(secret));

    SourceConfig orders = ConfigLoader.load(config, Map.of()).sources().get("orders");

    assertThat(orders.verify().secrets()).containsExactly("from-a-file", "from-a-file");
  }

  @Test
  void messagesNeverContainSubstitutedValues(@TempDir Path dir) throws Exception {
    Path config =
        Files.writeString(
            dir.resolve("switchboard.yaml"),
            """
            sources:
              orders:
                verify: { scheme: bearer, secrets: ["${TOKEN}"] }
                max_body: ${MAX_BODY}
            routes:
              r: { from: orders, to: flow }
            destinations:
              flow: { type: http, url: "${FLOW_URL}" }
            """);
    Map<String, String> env =
        Map.of("TOKEN", "", "MAX_BODY", "big-SECRET1", "FLOW_URL", "flow.example?sig=SECRET2");

    ConfigException e = loadFailing(config, env);

    assertThat(e.problems()).hasSize(3);
    assertThat(e.getMessage()).doesNotContain("SECRET1", "SECRET2", "sig=");
  }

  @Test
  void everyOptionalKeyIsTyped(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("order.schema.json"), "{\"type\": \"object\"}");
    TestCertificates.Identity server = TestCertificates.server(TestCertificates.ca("EC"), "EC");
    TestCertificates.writeCertificates(dir.resolve("tls.crt"), server.certificate());
    TestCertificates.writePkcs8Key(dir.resolve("tls.key"), server.privateKey());
    Path config =
        Files.writeString(
            dir.resolve("switchboard.yaml"),
            """
            server:
              host: 127.0.0.1
              port: 0
              tls: { cert: tls.crt, key: tls.key }
              trusted_proxies: [10.0.0.0/8]
              shutdown_grace: 30s
              backlog_high_water: 5000
              ack_timeout: 500ms
            store: { type: postgres, url: "jdbc:postgresql://db/sb", user: sb, max_size: 1GB, pool_size: 12 }
            admin: { token: "${ADMIN_TOKEN:-}" }
            sources:
              orders:
                verify: { scheme: standard-webhooks, secrets: [whsec_abc], tolerance: 1m }
                idempotency: { key: $headers.`webhook-id`, ttl: 3d, required: false }
                redact: { remove: [card], mask: [phone], max_field_chars: 2000 }
                schema: order.schema.json
                on_invalid: reject
                rate_limit: 10/s
                aliases: { call.durationSeconds: callDurationSeconds }
                accepted_status: 200
                duplicate_status: 208
                keep_headers: [X-Request-Id]
                event_time: "'$${not substituted}'"
            """);

    SwitchboardConfig loaded = ConfigLoader.load(config, Map.of());

    assertThat(loaded.server())
        .isEqualTo(
            new ServerConfig(
                "127.0.0.1",
                0,
                new ServerConfig.TlsConfig(
                    dir.resolve("tls.crt").toString(), dir.resolve("tls.key").toString()),
                List.of("10.0.0.0/8"),
                Duration.ofSeconds(30),
                5000,
                Duration.ofMillis(500),
                Duration.ofSeconds(30)));
    assertThat(loaded.store())
        .isEqualTo(
            new StoreConfig(
                "postgres",
                "data/switchboard.db",
                "jdbc:postgresql://db/sb",
                "sb",
                null,
                1L << 30,
                StoreConfig.Retention.DEFAULT,
                12));
    assertThat(loaded.admin().token()).isNull();
    SourceConfig orders = loaded.sources().get("orders");
    assertThat(orders.verify().tolerance()).isEqualTo(Duration.ofMinutes(1));
    assertThat(orders.idempotency().ttl()).isEqualTo(Duration.ofDays(3));
    assertThat(orders.idempotency().required()).isFalse();
    assertThat(orders.redact())
        .isEqualTo(new SourceConfig.Redact(List.of("card"), List.of("phone"), 2000));
    assertThat(orders.schema())
        .isEqualTo(dir.resolve("order.schema.json").toAbsolutePath().normalize());
    assertThat(orders.onInvalid()).isEqualTo(OnInvalid.REJECT);
    assertThat(orders.rateLimit()).isEqualTo(new RateLimit(10, Duration.ofSeconds(1)));
    assertThat(orders.aliases())
        .containsExactly(Map.entry("call.durationSeconds", "callDurationSeconds"));
    assertThat(orders.acceptedStatus()).isEqualTo(200);
    assertThat(orders.duplicateStatus()).isEqualTo(208);
    assertThat(orders.keepHeaders()).containsExactly("x-request-id");
    assertThat(orders.eventTime().text()).isEqualTo("'${not substituted}'");
    assertThat(orders.allowIps()).isEmpty();
    assertThat(orders.maxBodyBytes()).isEqualTo(1L << 20);
    assertThat(orders.partitionKey()).isNull();
    assertThat(loaded.routes()).isEmpty();
    assertThat(loaded.destinations()).isEmpty();
    assertThat(loaded.enrichers()).isEmpty();
  }

  @Test
  void missingFileIsOneProblem(@TempDir Path dir) {
    Path missing = dir.resolve("nowhere.yaml");

    ConfigException e = loadFailing(missing, Map.of());

    assertThat(e.problems()).hasSize(1);
    assertThat(e.problems().get(0).file()).isEqualTo(missing.toString());
    assertThat(e.problems().get(0).message()).contains("not found");
  }

  static ConfigException loadFailing(Path file, Map<String, String> env) {
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, env));
    assertThat(e).as("loading %s should fail", file).isNotNull();
    return e;
  }

  private static int lineContaining(Path file, String text) throws IOException {
    List<String> lines = Files.readAllLines(file);
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(text)) {
        return i + 1;
      }
    }
    throw new AssertionError(text + " not found in " + file);
  }

  private static Path example(String name) {
    Path path = EXAMPLES.resolve(name);
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException(
          "contract example "
              + path.toAbsolutePath()
              + " not found; run the tests from the project directory");
    }
    return path;
  }
}
