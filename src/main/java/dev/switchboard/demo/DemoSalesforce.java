package dev.switchboard.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small Salesforce org for {@code switchboard demo}, on 127.0.0.1 and a random port: the
 * client-credentials token endpoint, single-record upsert and sObject Collections upsert by an
 * external id, answering in Salesforce's shapes ({@code [{"message","errorCode"}]}, collection
 * items with {@code statusCode}, {@code Sforce-Limit-Info}). Records are kept in memory by external
 * id. To show retries and dead letters it fails about 5 % of data calls (503 with an HTML page, or
 * {@code UNABLE_TO_LOCK_ROW}) and refuses about 2 % of records for good with {@code INVALID_FIELD}
 * (chosen by the external id, so a retry is refused again).
 */
public final class DemoSalesforce implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern UPSERT =
      Pattern.compile("/services/data/v\\d+\\.\\d/sobjects/([^/]+)/([^/]+)/([^/]+)");
  private static final Pattern COLLECTION =
      Pattern.compile("/services/data/v\\d+\\.\\d/composite/sobjects/([^/]+)/([^/]+)");

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final String clientId;
  private final String clientSecret;
  private final Map<String, String> tokens = new ConcurrentHashMap<>();
  private final Map<String, Map<String, Object>> records = new ConcurrentHashMap<>();
  private final AtomicLong apiUsed = new AtomicLong();
  private final AtomicLong upserted = new AtomicLong();
  private final int failPercent;

  public DemoSalesforce(String clientId, String clientSecret) throws IOException {
    this(clientId, clientSecret, 5);
  }

  /** With {@code failPercent} % of data calls failing (0 for tests that need determinism). */
  DemoSalesforce(String clientId, String clientSecret, int failPercent) throws IOException {
    this.failPercent = failPercent;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The My Domain URL: token endpoint and {@code instance_url} at once. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Records stored so far (distinct external ids). */
  public int recordCount() {
    return records.size();
  }

  /** Successful record writes so far (creates and updates). */
  public long upserts() {
    return upserted.get();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange;
        InputStream in = exchange.getRequestBody()) {
      String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      String path = exchange.getRequestURI().getRawPath();
      String[] reply; // status, body, content type
      boolean data = false;
      if (path.equals("/services/oauth2/token")) {
        reply = token(exchange.getRequestMethod(), body);
      } else if (!path.startsWith("/services/data/")) {
        reply = error(404, "NOT_FOUND", "The requested resource does not exist");
      } else {
        data = true;
        reply = data(exchange, path, body);
      }
      exchange.getResponseHeaders().add("Content-Type", reply[2]);
      if (data) {
        exchange.getResponseHeaders().add("Sforce-Limit-Info", "api-usage=" + apiUsed + "/100000");
      }
      byte[] bytes = reply[1].getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(
          Integer.parseInt(reply[0]), bytes.length == 0 ? -1 : bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private String[] token(String method, String body) {
    if (!method.equals("POST")) {
      return new String[] {"405", "", "text/plain"};
    }
    Map<String, String> form = new HashMap<>();
    for (String pair : body.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        form.put(
            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    if (!"client_credentials".equals(form.get("grant_type"))) {
      return oauthError("unsupported_grant_type", "grant type not supported");
    }
    if (!clientId.equals(form.get("client_id"))) {
      return oauthError("invalid_client_id", "client identifier invalid");
    }
    if (!clientSecret.equals(form.get("client_secret"))) {
      return oauthError("invalid_client", "invalid client credentials");
    }
    String token = "00D000000000001!AR8AQ" + UUID.randomUUID().toString().replace("-", "");
    tokens.put(token, token);
    ObjectNode answer = JSON.createObjectNode();
    answer.put("access_token", token);
    answer.put("scope", "api");
    answer.put("instance_url", url());
    answer.put("id", "https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA");
    answer.put("token_type", "Bearer");
    answer.put("issued_at", Long.toString(Instant.now().toEpochMilli()));
    return new String[] {"200", answer.toString(), "application/json;charset=UTF-8"};
  }

  private String[] data(HttpExchange exchange, String path, String body) {
    String auth = exchange.getRequestHeaders().getFirst("Authorization");
    if (auth == null || !auth.startsWith("Bearer ")) {
      return error(401, "INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE");
    }
    if (!tokens.containsKey(auth.substring(7))) {
      return error(401, "INVALID_SESSION_ID", "Session expired or invalid");
    }
    apiUsed.incrementAndGet();
    if (!exchange.getRequestMethod().equals("PATCH")) {
      return error(405, "METHOD_NOT_ALLOWED", "HTTP Method not allowed. Allowed are PATCH");
    }
    int dice = ThreadLocalRandom.current().nextInt(100);
    if (dice < failPercent * 3 / 5) {
      return new String[] {
        "503", "<html><body><h1>Service Unavailable</h1></body></html>", "text/html"
      };
    }
    Matcher collection = COLLECTION.matcher(path);
    if (collection.matches()) {
      return collection(collection.group(2), body);
    }
    Matcher single = UPSERT.matcher(path);
    if (single.matches()) {
      if (dice < failPercent) {
        return lockError();
      }
      String value = URLDecoder.decode(single.group(3), StandardCharsets.UTF_8);
      JsonNode fields = parse(body);
      if (!(fields instanceof ObjectNode object)) {
        return error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object");
      }
      ObjectNode result = write(single.group(2), value, object);
      if (!result.path("success").asBoolean()) {
        ArrayNode errors = (ArrayNode) result.path("errors");
        ObjectNode e = (ObjectNode) errors.get(0);
        e.set("errorCode", e.remove("statusCode"));
        return new String[] {"400", errors.toString(), "application/json;charset=UTF-8"};
      }
      int status = result.path("created").asBoolean() ? 201 : 200;
      return new String[] {String.valueOf(status), result.toString(), "application/json"};
    }
    return error(404, "NOT_FOUND", "The requested resource does not exist");
  }

  private String[] collection(String field, String body) {
    JsonNode rows = parse(body).path("records");
    if (!rows.isArray()) {
      return error(400, "JSON_PARSER_ERROR", "The request body has no records list");
    }
    if (rows.size() > 200) {
      return error(
          400,
          "EXCEEDED_ID_LIMIT",
          "record limit reached. cannot submit more than 200 records into this call");
    }
    ArrayNode results = JSON.createArrayNode();
    for (JsonNode row : rows) {
      ObjectNode fields = row.deepCopy();
      fields.remove("attributes");
      JsonNode value = fields.remove(field);
      if (value == null || value.asText().isBlank()) {
        results.add(failure("MISSING_ARGUMENT", field + " not specified", field));
      } else if (ThreadLocalRandom.current().nextInt(100) < failPercent * 2 / 5) {
        results.add(failure("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access", null));
      } else {
        results.add(write(field, value.asText(), fields));
      }
    }
    return new String[] {"200", results.toString(), "application/json;charset=UTF-8"};
  }

  /** One record's save result; about 2 % of external ids are refused for good. */
  private ObjectNode write(String field, String value, ObjectNode fields) {
    if (Math.floorMod(value.hashCode(), 50) == 0) {
      return failure(
          "INVALID_FIELD",
          "Disposition_Reason__c: value not of required type (demo refusal)",
          null);
    }
    Map<String, Object> record = JSON.convertValue(fields, Map.class);
    boolean[] created = {false};
    Map<String, Object> stored =
        records.compute(
            value,
            (k, old) -> {
              Map<String, Object> next = new HashMap<>(old == null ? Map.of() : old);
              if (old == null) {
                created[0] = true;
                next.put(
                    "Id", "a0B" + UUID.randomUUID().toString().replace("-", "").substring(0, 15));
              }
              next.putAll(record);
              next.put(field, value);
              return next;
            });
    upserted.incrementAndGet();
    ObjectNode r = JSON.createObjectNode();
    r.put("id", String.valueOf(stored.get("Id")));
    r.put("success", true);
    r.putArray("errors");
    r.put("created", created[0]);
    return r;
  }

  private static ObjectNode failure(String code, String message, String field) {
    ObjectNode r = JSON.createObjectNode();
    r.putNull("id");
    r.put("success", false);
    ObjectNode e = r.putArray("errors").addObject();
    e.put("statusCode", code).put("message", message);
    ArrayNode fields = e.putArray("fields");
    if (field != null) {
      fields.add(field);
    }
    return r;
  }

  private static String[] lockError() {
    return error(
        400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records");
  }

  private static String[] error(int status, String code, String message) {
    ObjectNode e = JSON.createObjectNode().put("message", message).put("errorCode", code);
    return new String[] {
      String.valueOf(status), JSON.createArrayNode().add(e).toString(), "application/json"
    };
  }

  private static String[] oauthError(String error, String description) {
    return new String[] {
      "400",
      JSON.createObjectNode().put("error", error).put("error_description", description).toString(),
      "application/json;charset=UTF-8"
    };
  }

  private static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      return JSON.missingNode();
    }
  }
}
