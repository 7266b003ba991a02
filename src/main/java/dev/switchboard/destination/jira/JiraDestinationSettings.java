package dev.switchboard.destination.jira;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.config.ConnectorSettings;
import dev.switchboard.destination.OutboundDelivery;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The {@code jira} connector's settings, read by {@link JiraConnector} when the file is loaded.
 *
 * <p>Also shapes the create request from a route's output: what the configuration adds to it
 * (project, issue type, the idempotency label, an ADF description).
 *
 * <p>{@link #apiToken()} is a credential: {@link #toString()} leaves it (and the e-mail) out, and
 * nothing in this package logs it.
 *
 * @param baseUrl the site, e.g. {@code https://acme.atlassian.net}, without a trailing slash
 * @param issueType a name ({@code Task}) or, when all digits, an issue type id
 * @param searchLag how long Jira's search may lag behind a create: after an ambiguous create
 *     failure nothing is created again for this long (docs/connectors.md)
 */
public record JiraDestinationSettings(
    URI baseUrl,
    String email,
    String apiToken,
    String project,
    String issueType,
    Duration searchLag,
    Duration timeout,
    Duration connectTimeout)
    implements ConnectorSettings {

  /** Atlassian: "from a few seconds to minutes"; a minute covers the common case. */
  static final Duration DEFAULT_SEARCH_LAG = Duration.ofSeconds(60);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LABEL_SAFE = Pattern.compile("[A-Za-z0-9_.-]{1,200}");
  private static final Pattern PARAGRAPH_BREAK = Pattern.compile("\\R\\s*\\R");

  /** The {@code Authorization} header: basic auth with the account's e-mail and API token. */
  String authorization() {
    byte[] pair = (email + ":" + apiToken).getBytes(StandardCharsets.UTF_8);
    return "Basic " + Base64.getEncoder().encodeToString(pair);
  }

  /** An API path on the site, e.g. {@code api("/rest/api/3/issue")}. */
  URI api(String path) {
    return URI.create(baseUrl + path);
  }

  /** The label that marks a delivery's issue: the key itself when Jira accepts it as a label. */
  static String label(String idempotencyKey) {
    if (LABEL_SAFE.matcher(idempotencyKey).matches()) {
      return "sb-" + idempotencyKey;
    }
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256")
              .digest(idempotencyKey.getBytes(StandardCharsets.UTF_8));
      return "sb-" + HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** Plain text as an Atlassian Document: blank lines part paragraphs, line breaks stay. */
  static ObjectNode adf(String text) {
    ObjectNode doc = JSON.createObjectNode().put("type", "doc").put("version", 1);
    ArrayNode content = doc.putArray("content");
    for (String paragraph : PARAGRAPH_BREAK.split(text.strip())) {
      ArrayNode inline = content.addObject().put("type", "paragraph").putArray("content");
      String[] lines = paragraph.split("\\R");
      for (int i = 0; i < lines.length; i++) {
        if (i > 0) {
          inline.addObject().put("type", "hardBreak");
        }
        if (!lines[i].isEmpty()) { // ADF forbids empty text nodes
          inline.addObject().put("type", "text").put("text", lines[i]);
        }
      }
    }
    return doc;
  }

  /**
   * The create request for a delivery: the route's output as the issue's fields, with what this
   * configuration adds (see {@link JiraDestination}).
   *
   * @throws IllegalArgumentException when the output is not a JSON object of fields
   */
  ObjectNode createRequest(OutboundDelivery delivery, String key, String label) {
    JsonNode output;
    try {
      output = JSON.readTree(delivery.body());
    } catch (IOException e) {
      throw new IllegalArgumentException("the route's output is not JSON");
    }
    if (output != null && output.size() == 1 && output.path("fields").isObject()) {
      output = output.get("fields"); // {"fields": {...}} as Jira writes it
    }
    if (output == null || !output.isObject()) {
      throw new IllegalArgumentException("the route's output must be a JSON object of fields");
    }
    ObjectNode fields = ((ObjectNode) output).deepCopy();
    fields.putObject("project").put("key", project);
    if (!fields.hasNonNull("issuetype")) {
      boolean id = issueType.chars().allMatch(Character::isDigit);
      fields.putObject("issuetype").put(id ? "id" : "name", issueType);
    }
    JsonNode description = fields.get("description");
    if (description != null && description.isTextual()) {
      if (description.asText().isBlank()) {
        fields.remove("description");
      } else {
        fields.set("description", adf(description.asText()));
      }
    }
    JsonNode labels = fields.get("labels");
    if (labels != null && !labels.isNull() && !labels.isArray()) {
      throw new IllegalArgumentException("labels must be a list of strings");
    }
    ArrayNode all =
        labels == null || labels.isNull() ? fields.putArray("labels") : (ArrayNode) labels;
    all.add(label);
    ObjectNode request = JSON.createObjectNode();
    request.set("fields", fields);
    request
        .putArray("properties")
        .addObject()
        .put("key", JiraDestination.PROPERTY)
        .putObject("value")
        .put("idempotencyKey", key)
        .put("eventId", delivery.eventId());
    return request;
  }

  /** Never the token or the e-mail: a record's default would print both. */
  @Override
  public String toString() {
    return "JiraDestinationSettings["
        + baseUrl.getHost()
        + ", project="
        + project
        + ", issueType="
        + issueType
        + ", searchLag="
        + searchLag
        + "]";
  }
}
