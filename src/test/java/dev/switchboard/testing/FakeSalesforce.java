package dev.switchboard.testing;

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
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Salesforce org on 127.0.0.1 that speaks the REST API as docs/connectors.md ("Salesforce")
 * documents it, for the calls the {@code salesforce} connector makes: the client-credentials token
 * endpoint, single-record upsert and create, sObject Collections upsert, the SOQL query resource
 * ({@code GET /query?q=}, paged through {@code nextRecordsUrl}; the SOQL it understands is {@link
 * FakeSoql}'s), with an in-memory record store, a configurable schema, {@code Sforce-Limit-Info} on
 * every data answer, the 403 daily limit, lock errors, expired sessions and scripted faults, and an
 * inspection API for exactly-once assertions.
 *
 * <p>Where the facts say "unconfirmed" (300's body, collections errors for a wrong type, a
 * duplicate id's {@code statusCode}), this fake picks a plausible shape and says so in a comment;
 * the connector must not depend on those details. Every method is thread-safe; data calls are
 * serialised on the record store, as row locks would have it for one object.
 */
public final class FakeSalesforce implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern DATA = Pattern.compile("/services/data/v(\\d{2,3})\\.(\\d)(/.*)?");
  private static final String ORG_ID = "00D5g000004XyZaEAK";
  private static final String USER_ID = "0055g00000A1b2CAAR";

  /** How the token endpoint behaves. */
  public enum LoginMode {
    OK,
    /** The connected app has no Run As user: {@code invalid_grant}. */
    NO_RUN_AS_USER,
    /** Asked of login.salesforce.com instead of the My Domain host: {@code invalid_grant}. */
    GENERIC_LOGIN_HOST
  }

  /**
   * One request to the org as it was answered; {@code records} counts a collections body's rows.
   */
  public record Call(String method, String path, int status, int records, String body) {}

  /** An object's schema: field names are case-insensitive, as in Salesforce. */
  public static final class SObjectType {
    final String name;
    final String keyPrefix;
    final Set<String> fields = new LinkedHashSet<>();
    final Set<String> externalIds = new LinkedHashSet<>();
    final Set<String> required = new LinkedHashSet<>();
    final Map<String, Set<String>> picklists = new HashMap<>();

    SObjectType(String name, String keyPrefix) {
      this.name = name;
      this.keyPrefix = keyPrefix;
    }

    public SObjectType fields(String... names) {
      for (String n : names) {
        fields.add(n.toLowerCase(Locale.ROOT));
      }
      return this;
    }

    /** An External ID + Unique field (Salesforce: {@code Interaction_ID__c}). */
    public SObjectType externalId(String field) {
      fields(field);
      externalIds.add(field.toLowerCase(Locale.ROOT));
      return this;
    }

    public SObjectType required(String field) {
      fields(field);
      required.add(field);
      return this;
    }

    public SObjectType restrictedPicklist(String field, String... values) {
      fields(field);
      picklists.put(field.toLowerCase(Locale.ROOT), Set.of(values));
      return this;
    }

    boolean has(String field) {
      return fields.contains(field.toLowerCase(Locale.ROOT));
    }
  }

  /** A scripted answer for the next data call, after the call is counted. */
  private record Fault(int status, String contentType, String body) {}

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final String clientId;
  private final String clientSecret;
  private final Map<String, SObjectType> types = new ConcurrentHashMap<>();
  private final Map<String, List<Map<String, Object>>> store = new HashMap<>();
  private final Set<String> liveTokens = ConcurrentHashMap.newKeySet();
  private final List<String> issued = new CopyOnWriteArrayList<>();
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedQueue<Fault> faults = new ConcurrentLinkedQueue<>();
  private final Map<String, Integer> locked = new ConcurrentHashMap<>();
  private final AtomicInteger drops = new AtomicInteger();
  private final AtomicInteger sequence = new AtomicInteger();
  private final Map<String, List<ObjectNode>> cursors = new ConcurrentHashMap<>();
  private final List<String> queries = new CopyOnWriteArrayList<>();
  private volatile int queryPageSize = 2000;
  private volatile LoginMode loginMode = LoginMode.OK;
  private long apiUsed;
  private long apiMax = 100_000;

  public FakeSalesforce(String clientId, String clientSecret) {
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the fake Salesforce", e);
    }
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  // ---------------------------------------------------------------- set-up and faults

  /** The My Domain URL: token endpoint and {@code instance_url} at once. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  public SObjectType defineObject(String name, String keyPrefix) {
    SObjectType type = new SObjectType(name, keyPrefix);
    types.put(name.toLowerCase(Locale.ROOT), type);
    return type;
  }

  public void loginMode(LoginMode mode) {
    this.loginMode = mode;
  }

  /** Ends every session issued so far: data calls with them get 401 INVALID_SESSION_ID. */
  public void expireSessions() {
    liveTokens.clear();
  }

  /** Sets the rolling 24-hour API usage: at {@code used >= max} calls get 403. */
  public synchronized void apiUsage(long used, long max) {
    this.apiUsed = used;
    this.apiMax = max;
  }

  public synchronized long apiUsed() {
    return apiUsed;
  }

  /** The next {@code times} writes of this external id value fail with UNABLE_TO_LOCK_ROW. */
  public void lock(String externalIdValue, int times) {
    locked.put(externalIdValue, times);
  }

  /** The next data call is answered with this status and JSON error array instead. */
  public void failNext(int status, String errorCode, String message) {
    String body = "[{\"message\":\"" + message + "\",\"errorCode\":\"" + errorCode + "\"}]";
    faults.add(new Fault(status, "application/json;charset=UTF-8", body));
  }

  /** The next data call gets an edge's HTML error page (502/503). */
  public void failNextWithHtml(int status) {
    faults.add(
        new Fault(status, "text/html", "<html><body><h1>Service Unavailable</h1></body></html>"));
  }

  /** The next write is committed, then the connection dropped without an answer. */
  public void dropNextAfterCommit() {
    drops.incrementAndGet();
  }

  /**
   * How many records a query answer holds before it pages ({@code done: false} and a {@code
   * nextRecordsUrl}); Salesforce's default is 2,000.
   */
  public void queryPageSize(int records) {
    this.queryPageSize = records;
  }

  /** Stores a record directly (e.g. a second one with the same value of a non-unique field). */
  public synchronized String seed(String object, Map<String, Object> fields) {
    SObjectType type = types.get(object.toLowerCase(Locale.ROOT));
    Map<String, Object> record = new LinkedHashMap<>(fields);
    String id = newId(type);
    record.put("Id", id);
    store.computeIfAbsent(type.name, k -> new ArrayList<>()).add(record);
    return id;
  }

  // ---------------------------------------------------------------- inspection

  public synchronized List<Map<String, Object>> records(String object) {
    return store.getOrDefault(object, List.of()).stream()
        .map(r -> (Map<String, Object>) new LinkedHashMap<>(r))
        .toList();
  }

  public Optional<Map<String, Object>> record(String object, String field, String value) {
    return records(object).stream().filter(r -> value.equals(valueOf(r, field))).findFirst();
  }

  public List<Call> calls() {
    return List.copyOf(calls);
  }

  /** Calls to the data API (not the token endpoint). */
  public List<Call> dataCalls() {
    return calls.stream().filter(c -> c.path().startsWith("/services/data/")).toList();
  }

  /** The SOQL of each query received ({@code q}, decoded), oldest first. */
  public List<String> queries() {
    return List.copyOf(queries);
  }

  /** Access tokens issued so far, oldest first. */
  public List<String> tokensIssued() {
    return List.copyOf(issued);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  // ---------------------------------------------------------------- the protocol

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange;
        InputStream in = exchange.getRequestBody()) {
      String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      String path = exchange.getRequestURI().getRawPath();
      String rawQuery = exchange.getRequestURI().getRawQuery();
      String method = exchange.getRequestMethod();
      Reply reply;
      if (path.equals("/services/oauth2/token")) {
        reply = token(method, body);
      } else if (path.equals("/services/data") || path.equals("/services/data/")) {
        // open, uncounted, no Sforce-Limit-Info
        reply =
            new Reply(
                200,
                "[{\"label\":\"Winter '25\",\"url\":\"/services/data/v62.0\",\"version\":\"62.0\"}]");
      } else if (DATA.matcher(path).matches()) {
        reply = data(exchange, method, path, rawQuery, body);
      } else {
        reply = error(404, "NOT_FOUND", "The requested resource does not exist");
      }
      int rows = 0;
      if (path.contains("/composite/sobjects/")) {
        JsonNode records = parse(body).path("records");
        rows = records.isArray() ? records.size() : 0;
      }
      String called = rawQuery == null ? path : path + "?" + rawQuery;
      calls.add(new Call(method, called, reply == null ? 0 : reply.status, rows, body));
      if (reply == null) {
        return; // committed, then the connection dropped: closing without an answer
      }
      exchange
          .getResponseHeaders()
          .add(
              "Content-Type",
              reply.contentType == null ? "application/json;charset=UTF-8" : reply.contentType);
      if (reply.limitInfo != null) {
        exchange.getResponseHeaders().add("Sforce-Limit-Info", reply.limitInfo);
      }
      byte[] bytes = reply.body == null ? new byte[0] : reply.body.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(reply.status, bytes.length == 0 ? -1 : bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private static final class Reply {
    final int status;
    final String body;
    String contentType;
    String limitInfo;

    Reply(int status, String body) {
      this.status = status;
      this.body = body;
    }
  }

  /** §1: form-encoded client credentials; errors are a JSON object, HTTP 400. */
  private Reply token(String method, String body) {
    if (!method.equals("POST")) {
      return new Reply(405, "");
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
    if (loginMode == LoginMode.GENERIC_LOGIN_HOST) {
      return oauthError("invalid_grant", "request not supported on this domain");
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
    if (loginMode == LoginMode.NO_RUN_AS_USER) {
      return oauthError("invalid_grant", "no client credentials user enabled");
    }
    String token = ORG_ID.substring(0, 15) + "!AR8AQ" + randomText(96);
    liveTokens.add(token);
    issued.add(token);
    String id = "https://login.salesforce.com/id/" + ORG_ID + "/" + USER_ID;
    String issuedAt = Long.toString(Instant.now().toEpochMilli());
    ObjectNode answer = JSON.createObjectNode();
    answer.put("access_token", token);
    answer.put(
        "signature",
        Base64.getEncoder()
            .encodeToString(
                Hmac.mac(
                    "HmacSHA256",
                    clientSecret.getBytes(StandardCharsets.UTF_8),
                    (id + issuedAt).getBytes(StandardCharsets.UTF_8))));
    answer.put("scope", "api");
    answer.put("instance_url", url());
    answer.put("id", id);
    answer.put("token_type", "Bearer");
    answer.put("issued_at", issuedAt); // epoch milliseconds, as text; no expires_in
    answer.put("token_format", "opaque");
    return new Reply(200, answer.toString());
  }

  private static Reply oauthError(String error, String description) {
    return new Reply(
        400,
        JSON.createObjectNode()
            .put("error", error)
            .put("error_description", description)
            .toString());
  }

  /** §2–§5: authenticate, count against the limit, then the call itself. */
  private Reply data(
      HttpExchange exchange, String method, String path, String rawQuery, String body) {
    Matcher m = DATA.matcher(path);
    m.matches();
    int version = Integer.parseInt(m.group(1));
    String rest = m.group(3) == null ? "" : m.group(3);
    String auth = exchange.getRequestHeaders().getFirst("Authorization");
    synchronized (this) {
      Reply reply;
      if (auth == null || !auth.startsWith("Bearer ") || auth.length() <= 7) {
        reply = error(401, "INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE");
      } else if (!liveTokens.contains(auth.substring(7))) {
        reply = error(401, "INVALID_SESSION_ID", "Session expired or invalid");
      } else if (apiUsed >= apiMax) {
        reply = error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
      } else {
        apiUsed++;
        reply = call(method, version, rest, rawQuery, body);
      }
      if (reply != null) {
        reply.limitInfo = "api-usage=" + apiUsed + "/" + apiMax;
      }
      return reply;
    }
  }

  private Reply call(String method, int version, String rest, String rawQuery, String body) {
    Fault fault = faults.poll();
    if (fault != null) {
      Reply r = new Reply(fault.status, fault.body);
      r.contentType = fault.contentType;
      return r;
    }
    if (version < 31) {
      // §6: a retired version answers 410 (body shape unconfirmed)
      return error(410, "API_VERSION_RETIRED", "The requested API version has been retired");
    }
    if (method.equals("GET") && (rest.equals("/query") || rest.equals("/query/"))) {
      return query(version, rawQuery);
    }
    if (method.equals("GET") && rest.startsWith("/query/")) {
      return queryMore(version, rest.substring("/query/".length()));
    }
    String[] parts = rest.split("/");
    // "", "sobjects", Obj[, Field, value]  or  "", "composite", "sobjects", Obj, Field
    if (parts.length >= 3 && parts[1].equals("sobjects")) {
      SObjectType type = types.get(parts[2].toLowerCase(Locale.ROOT));
      if (type == null) {
        return error(404, "NOT_FOUND", "The requested resource does not exist");
      }
      if (parts.length == 3) {
        return method.equals("POST")
            ? create(type, body)
            : error(
                405,
                "METHOD_NOT_ALLOWED",
                "HTTP Method '" + method + "' not allowed. Allowed are HEAD,GET,POST");
      }
      if (parts.length == 5 && method.equals("PATCH")) {
        String value = URLDecoder.decode(parts[4].replace("+", "%2B"), StandardCharsets.UTF_8);
        return upsert(type, parts[3], value, version, body);
      }
    }
    if (parts.length == 5
        && parts[1].equals("composite")
        && parts[2].equals("sobjects")
        && method.equals("PATCH")) {
      SObjectType type = types.get(parts[3].toLowerCase(Locale.ROOT));
      if (type == null) {
        return error(404, "NOT_FOUND", "The requested resource does not exist");
      }
      return collection(type, parts[4], body);
    }
    return error(404, "NOT_FOUND", "The requested resource does not exist");
  }

  private Reply create(SObjectType type, String body) {
    JsonNode fields = parse(body);
    if (!(fields instanceof ObjectNode object)) {
      return error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object");
    }
    ObjectNode problem = check(type, object, null, true);
    if (problem != null) {
      return new Reply(400, JSON.createArrayNode().add(problem).toString());
    }
    Map<String, Object> record = toMap(object);
    String id = newId(type);
    record.put("Id", id);
    store.computeIfAbsent(type.name, k -> new ArrayList<>()).add(record);
    return afterCommit(new Reply(201, "{\"id\":\"" + id + "\",\"success\":true,\"errors\":[]}"));
  }

  /** §3: 201 created, 200 (v46+) or 204 updated, 300 on several matches, 400 field errors. */
  private Reply upsert(SObjectType type, String field, String value, int version, String body) {
    if (!type.externalIds.contains(field.toLowerCase(Locale.ROOT))) {
      return error(
          404,
          "NOT_FOUND",
          "Provided external ID field does not exist or is not accessible: " + field);
    }
    JsonNode fields = parse(body);
    if (!(fields instanceof ObjectNode object)) {
      return error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object");
    }
    if (object.has(field)) {
      // the statement: the external id travels in the URL only (message text assumed)
      return error(
          400,
          "INVALID_FIELD",
          "The external ID field " + field + " should not be specified in the sobject data.");
    }
    if (takeLock(value)) {
      return lockError(value);
    }
    List<Map<String, Object>> matches = matching(type, field, value);
    if (matches.size() > 1) {
      // several matches: nothing written; the list-of-URLs shape is unconfirmed
      ArrayNode urls = JSON.createArrayNode();
      matches.forEach(
          r -> urls.add("/services/data/v62.0/sobjects/" + type.name + "/" + r.get("Id")));
      return new Reply(300, urls.toString());
    }
    ObjectNode problem = check(type, object, field, matches.isEmpty());
    if (problem != null) {
      return new Reply(400, JSON.createArrayNode().add(problem).toString());
    }
    boolean created = matches.isEmpty();
    Map<String, Object> record = write(type, field, value, object, matches);
    if (!created && version < 46) {
      return afterCommit(new Reply(204, null));
    }
    return afterCommit(
        new Reply(created ? 201 : 200, saveResult(record.get("Id"), created).toString()));
  }

  /** §4: ≤ 200 rows, the URI's type only, 200 with ordered results; one call counted. */
  private Reply collection(SObjectType type, String field, String body) {
    if (!type.externalIds.contains(field.toLowerCase(Locale.ROOT))) {
      return error(
          404,
          "NOT_FOUND",
          "Provided external ID field does not exist or is not accessible: " + field);
    }
    JsonNode request = parse(body);
    JsonNode rows = request.path("records");
    if (!rows.isArray()) {
      return error(400, "JSON_PARSER_ERROR", "The request body has no records list");
    }
    if (rows.size() > 200) {
      return error(
          400,
          "EXCEEDED_ID_LIMIT",
          "record limit reached. cannot submit more than 200 records into this call");
    }
    for (JsonNode row : rows) {
      if (!type.name.equals(row.path("attributes").path("type").asText())) {
        // a row without its type, or of another type (error shape unconfirmed)
        return error(400, "INVALID_TYPE", "Each record must have attributes.type " + type.name);
      }
    }
    boolean allOrNone = request.path("allOrNone").asBoolean(false);
    Map<String, Integer> seen = new HashMap<>();
    for (JsonNode row : rows) {
      seen.merge(row.path(field).asText(), 1, Integer::sum);
    }
    ArrayNode results = JSON.createArrayNode();
    boolean anyLocked = false;
    for (JsonNode row : rows) {
      anyLocked |= takeLock(row.path(field).asText());
    }
    // work on a copy: allOrNone commits it only when every row succeeded
    List<Map<String, Object>> original = store.getOrDefault(type.name, List.of());
    List<Map<String, Object>> working = new ArrayList<>();
    original.forEach(r -> working.add(new LinkedHashMap<>(r)));
    store.put(type.name, working);
    boolean failed = false;
    for (JsonNode row : rows) {
      ObjectNode fields = ((ObjectNode) row).deepCopy();
      fields.remove("attributes");
      String value = fields.path(field).asText();
      ObjectNode problem;
      List<Map<String, Object>> matches = matching(type, field, value);
      if (anyLocked) {
        // one unlockable row fails the whole batch
        problem =
            statusError(
                "UNABLE_TO_LOCK_ROW",
                "unable to obtain exclusive access to this record or 1 records: " + value);
      } else if (value.isEmpty()) {
        problem = statusError("MISSING_ARGUMENT", field + " not specified");
      } else if (seen.get(value) > 1) {
        problem = statusError("DUPLICATE_EXTERNAL_ID", "Duplicate external id specified: " + value);
      } else if (matches.size() > 1) {
        problem =
            statusError(
                "DUPLICATE_EXTERNAL_ID",
                field + ": more than one record found for external id field: " + value);
      } else {
        fields.remove(field);
        problem = check(type, fields, field, matches.isEmpty());
        if (problem != null) {
          problem.set("statusCode", problem.remove("errorCode"));
        }
      }
      if (problem != null) {
        failed = true;
        results.add(
            JSON.createObjectNode()
                .put("success", false)
                .set("errors", JSON.createArrayNode().add(problem)));
        continue;
      }
      Map<String, Object> record = write(type, field, value, fields, matches);
      results.add(saveResult(record.get("Id"), matches.isEmpty()));
    }
    if (allOrNone && failed) {
      store.put(type.name, original);
      for (JsonNode result : results) {
        if (result.path("success").asBoolean()) {
          ObjectNode r = (ObjectNode) result;
          r.put("success", false);
          r.remove("created");
          r.set(
              "errors",
              JSON.createArrayNode()
                  .add(
                      statusError(
                          "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                          "Record rolled back because not all records were valid and the request"
                              + " was using AllOrNone header")));
        }
      }
    }
    return afterCommit(new Reply(200, results.toString()));
  }

  /** The query resource: {@code totalSize}, {@code done}, {@code records}, a locator when paged. */
  private Reply query(int version, String rawQuery) {
    String soql = null;
    for (String pair : rawQuery == null ? new String[0] : rawQuery.split("&")) {
      if (pair.startsWith("q=")) {
        soql = URLDecoder.decode(pair.substring(2), StandardCharsets.UTF_8);
      }
    }
    if (soql == null || soql.isBlank()) {
      return error(400, "MALFORMED_QUERY", "A query string has to be specified");
    }
    queries.add(soql);
    FakeSoql.Query q;
    try {
      q = FakeSoql.parse(soql);
    } catch (FakeSoql.Malformed e) {
      return error(400, "MALFORMED_QUERY", e.getMessage());
    }
    SObjectType type = types.get(q.object().toLowerCase(Locale.ROOT));
    if (type == null) {
      return error(
          400,
          "INVALID_TYPE",
          "sObject type '"
              + q.object()
              + "' is not supported. If you are attempting to use a custom object, be sure to"
              + " append the '__c' after the entity name.");
    }
    List<String> named = new ArrayList<>(q.fields());
    named.addAll(q.columns());
    for (String field : named) {
      if (!field.equalsIgnoreCase("Id") && !type.has(field)) {
        return error(
            400,
            "INVALID_FIELD",
            "No such column '"
                + field
                + "' on entity '"
                + type.name
                + "'. If you are attempting to use a custom field, be sure to append the '__c'"
                + " after the custom field name.");
      }
    }
    String data = "/services/data/v" + version + ".0";
    List<ObjectNode> rows = new ArrayList<>();
    for (Map<String, Object> record : store.getOrDefault(type.name, List.of())) {
      if (q.limit() != null && rows.size() >= q.limit()) {
        break;
      }
      if (!q.where().test(record)) {
        continue;
      }
      ObjectNode row = JSON.createObjectNode();
      row.putObject("attributes")
          .put("type", type.name)
          .put("url", data + "/sobjects/" + type.name + "/" + record.get("Id"));
      for (String field : q.fields()) {
        String key = field;
        for (String k : record.keySet()) {
          key = k.equalsIgnoreCase(field) ? k : key;
        }
        row.putPOJO(key, FakeSoql.valueOf(record, field));
      }
      rows.add(row);
    }
    return page(data, rows, rows.size(), 0, newLocator());
  }

  /** {@code /query/{locator}-{offset}}: the next batch of a paged answer. */
  private Reply queryMore(int version, String locatorAndOffset) {
    int dash = locatorAndOffset.lastIndexOf('-');
    List<ObjectNode> rows = dash < 0 ? null : cursors.get(locatorAndOffset.substring(0, dash));
    if (rows == null || !locatorAndOffset.substring(dash + 1).matches("\\d{1,9}")) {
      return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    }
    int offset = Integer.parseInt(locatorAndOffset.substring(dash + 1));
    String locator = locatorAndOffset.substring(0, dash);
    return page("/services/data/v" + version + ".0", rows, rows.size(), offset, locator);
  }

  private Reply page(String data, List<ObjectNode> rows, int total, int offset, String locator) {
    int end = Math.min(rows.size(), offset + queryPageSize);
    ObjectNode answer = JSON.createObjectNode();
    answer.put("totalSize", total);
    answer.put("done", end >= rows.size());
    if (end < rows.size()) {
      cursors.put(locator, rows);
      answer.put("nextRecordsUrl", data + "/query/" + locator + "-" + end);
    } else {
      cursors.remove(locator);
    }
    ArrayNode records = answer.putArray("records");
    rows.subList(Math.min(offset, rows.size()), end).forEach(records::add);
    return new Reply(200, answer.toString());
  }

  /** A query locator: {@code 01g}, the key prefix of query cursors, and 15 more characters. */
  private String newLocator() {
    return "01g5g" + String.format("%010d", sequence.incrementAndGet());
  }

  /** The first schema problem of a body (§3 codes and texts), or null. */
  private static ObjectNode check(
      SObjectType type, ObjectNode body, String externalId, boolean creating) {
    for (var it = body.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!type.has(name)) {
        return problem(
            "INVALID_FIELD",
            "No such column '" + name + "' on sobject of type " + type.name,
            List.of());
      }
      Set<String> allowed = type.picklists.get(name.toLowerCase(Locale.ROOT));
      if (allowed != null && !allowed.contains(body.get(name).asText())) {
        return problem(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            name + ": bad value for restricted picklist field: " + body.get(name).asText(),
            List.of(name));
      }
    }
    if (creating) {
      List<String> missing = new ArrayList<>();
      for (String required : type.required) {
        if (!required.equalsIgnoreCase(externalId) && body.path(required).isMissingNode()) {
          missing.add(required);
        }
      }
      if (!missing.isEmpty()) {
        return problem(
            "REQUIRED_FIELD_MISSING", "Required fields are missing: " + missing, missing);
      }
    }
    return null;
  }

  private Map<String, Object> write(
      SObjectType type,
      String field,
      String value,
      ObjectNode fields,
      List<Map<String, Object>> matches) {
    Map<String, Object> record;
    if (matches.isEmpty()) {
      record = new LinkedHashMap<>();
      record.put("Id", newId(type));
      record.put(field, value);
      store.computeIfAbsent(type.name, k -> new ArrayList<>()).add(record);
    } else {
      record = matches.get(0);
    }
    record.putAll(toMap(fields));
    return record;
  }

  private List<Map<String, Object>> matching(SObjectType type, String field, String value) {
    return store.getOrDefault(type.name, List.of()).stream()
        .filter(r -> value.equals(valueOf(r, field)))
        .toList();
  }

  private boolean takeLock(String value) {
    boolean[] hit = {false};
    locked.computeIfPresent(
        value,
        (k, times) -> {
          hit[0] = true;
          return times > 1 ? times - 1 : null;
        });
    return hit[0];
  }

  private Reply lockError(String value) {
    return error(
        400,
        "UNABLE_TO_LOCK_ROW",
        "unable to obtain exclusive access to this record or 1 records: " + value);
  }

  private Reply afterCommit(Reply reply) {
    if (drops.get() > 0 && drops.getAndDecrement() > 0) {
      return null;
    }
    return reply;
  }

  private static ObjectNode saveResult(Object id, boolean created) {
    ObjectNode r = JSON.createObjectNode();
    r.put("id", String.valueOf(id));
    r.put("success", true);
    r.putArray("errors");
    r.put("created", created);
    return r;
  }

  private static Reply error(int status, String code, String message) {
    ObjectNode e = JSON.createObjectNode().put("message", message).put("errorCode", code);
    return new Reply(status, JSON.createArrayNode().add(e).toString());
  }

  private static ObjectNode problem(String code, String message, List<String> fields) {
    ObjectNode e = JSON.createObjectNode().put("message", message).put("errorCode", code);
    ArrayNode f = e.putArray("fields");
    fields.forEach(f::add);
    return e;
  }

  private static ObjectNode statusError(String code, String message) {
    ObjectNode e = JSON.createObjectNode().put("statusCode", code).put("message", message);
    e.putArray("fields");
    return e;
  }

  private static Object valueOf(Map<String, Object> record, String field) {
    for (Map.Entry<String, Object> e : record.entrySet()) {
      if (e.getKey().equalsIgnoreCase(field)) {
        return e.getValue() == null ? null : String.valueOf(e.getValue());
      }
    }
    return null;
  }

  private static Map<String, Object> toMap(ObjectNode node) {
    Map<String, Object> map = new LinkedHashMap<>();
    node.properties()
        .forEach(e -> map.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
    return map;
  }

  private static JsonNode parse(String body) {
    try {
      JsonNode node = JSON.readTree(body);
      return node == null ? JSON.missingNode() : node;
    } catch (IOException e) {
      return JSON.missingNode();
    }
  }

  /** An 18-character id: the object's key prefix, a counter, and Salesforce's case checksum. */
  private String newId(SObjectType type) {
    String base = type.keyPrefix + "5g00000" + String.format("%05d", sequence.incrementAndGet());
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    StringBuilder suffix = new StringBuilder();
    for (int chunk = 0; chunk < 3; chunk++) {
      int bits = 0;
      for (int i = 0; i < 5; i++) {
        char c = base.charAt(chunk * 5 + i);
        if (c >= 'A' && c <= 'Z') {
          bits |= 1 << i;
        }
      }
      suffix.append(alphabet.charAt(bits));
    }
    return base + suffix;
  }

  private static String randomText(int length) {
    String chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    StringBuilder b = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      b.append(chars.charAt(ThreadLocalRandom.current().nextInt(chars.length())));
    }
    return b.toString();
  }
}
