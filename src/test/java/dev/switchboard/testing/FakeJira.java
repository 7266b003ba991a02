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
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jira Cloud's REST API v3 on 127.0.0.1, the parts the {@code jira} connector uses, as
 * docs/connectors.md ("Jira Cloud") describes them: basic auth (401 with Jira's JSON when wrong),
 * {@code POST /rest/api/3/issue} with field validation (project, issue type, summary, ADF
 * description, labels) and 400 {@code {"errorMessages":[…],"errors":{…}}}, {@code GET
 * /rest/api/3/issue/{key}}, entity properties (on create and by PUT/GET), {@code GET|POST
 * /rest/api/3/search/jql} with token pagination, ids only unless {@code fields} is given, and an
 * <b>index lag</b>: an issue becomes searchable only {@link #indexLag} after its last change (on
 * the injected clock) unless listed in {@code reconcileIssues}. The old {@code /rest/api/3/search}
 * answers 410. A burst limiter per endpoint and method answers 429 with {@code Retry-After}, {@code
 * X-RateLimit-Reset} and {@code RateLimit-Reason}. Creates are never de-duplicated: two POSTs make
 * two issues. Every request is recorded.
 */
public final class FakeJira implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern ISSUE_PATH =
      Pattern.compile("/rest/api/3/issue/([^/]+)(?:/properties/([^/]+))?");
  private static final Pattern CLAUSE =
      Pattern.compile(
          "\\s*(project|labels|key|issue\\.property\\[([^\\]]+)\\]\\.(\\w+))\\s*=\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|[\\w.-]+)\\s*",
          Pattern.CASE_INSENSITIVE);
  private static final Pattern SETTABLE =
      Pattern.compile(
          "summary|description|labels|project|issuetype|priority|assignee|duedate|components|customfield_\\d+");
  private static final DateTimeFormatter RESET =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm'Z'").withZone(ZoneOffset.UTC);
  static final int MAX_PROPERTY_CHARS = 32_768;

  /** One request as received. */
  public record Request(
      String method, String path, String query, String authorization, String body, Instant at) {}

  /** A scripted answer that replaces the next request to an endpoint ("POST /rest/api/3/issue"). */
  public record Answer(int status, Map<String, String> headers, String body) {
    public static Answer of(int status, String body) {
      return new Answer(status, Map.of(), body);
    }

    public Answer header(String name, String value) {
      Map<String, String> more = new LinkedHashMap<>(headers);
      more.put(name, value);
      return new Answer(status, more, body);
    }
  }

  /** A stored issue. {@code indexedAt}: from when search sees it. */
  public record Issue(
      String id,
      String key,
      ObjectNode fields,
      Map<String, JsonNode> properties,
      Instant createdAt,
      Instant indexedAt) {
    public List<String> labels() {
      List<String> labels = new ArrayList<>();
      fields.path("labels").forEach(l -> labels.add(l.asText()));
      return labels;
    }
  }

  private record Window(Instant start, int used) {}

  /** What a request without credentials gets: Jira runs it as the anonymous user. */
  public enum Anonymous {
    /** 401 everywhere. */
    REFUSED,
    /** The trap: a search answers 200 with no issues (anonymous sees nothing); writes get 401. */
    EMPTY_SEARCH
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Clock clock;
  private final String email;
  private final String apiToken;
  private final Set<String> projects = ConcurrentHashMap.newKeySet();
  private final Map<String, String> issueTypes = new ConcurrentHashMap<>(); // name -> id
  private final Map<String, Issue> issues = new ConcurrentHashMap<>(); // by id
  private final Map<String, Integer> counters = new HashMap<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final Map<String, ConcurrentLinkedQueue<Answer>> scripts = new ConcurrentHashMap<>();
  private final Map<String, Window> windows = new HashMap<>();
  private final ConcurrentLinkedQueue<Duration> createLatencies = new ConcurrentLinkedQueue<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private int nextId = 10000;
  private volatile Duration indexLag = Duration.ofSeconds(5);
  private volatile int burstPerSecond = Integer.MAX_VALUE;
  private volatile boolean propertiesIndexed;
  private volatile Anonymous anonymous = Anonymous.REFUSED;

  /**
   * @param clock times the index lag, rate limits and record stamps
   */
  public FakeJira(Clock clock, String email, String apiToken) {
    this.clock = clock;
    this.email = email;
    this.apiToken = apiToken;
    projects.add("OPS");
    issueTypes.put("Task", "10001");
    issueTypes.put("Bug", "10002");
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the fake Jira", e);
    }
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  public URI baseUrl() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** How long after a create or edit an issue stays invisible to search (default 5 s). */
  public FakeJira indexLag(Duration lag) {
    indexLag = lag;
    return this;
  }

  /** Requests per second per endpoint and method before 429 (default: no limit). */
  public FakeJira burstLimit(int perSecond) {
    burstPerSecond = perSecond;
    return this;
  }

  /** Whether JQL may use {@code issue.property[k].path} (only for app-declared properties). */
  public FakeJira propertiesIndexed(boolean indexed) {
    propertiesIndexed = indexed;
    return this;
  }

  public FakeJira anonymous(Anonymous mode) {
    anonymous = mode;
    return this;
  }

  /** The next request to {@code "METHOD /path"} gets this answer and does nothing else. */
  public FakeJira script(String methodAndPath, Answer... answers) {
    scripts
        .computeIfAbsent(methodAndPath, k -> new ConcurrentLinkedQueue<>())
        .addAll(List.of(answers));
    return this;
  }

  /** The next create makes the issue, then holds its 201 this long (a create that "times out"). */
  public FakeJira slowNextCreate(Duration hold) {
    createLatencies.add(hold);
    return this;
  }

  public synchronized List<Issue> issues() {
    return issues.values().stream().sorted((a, b) -> a.id().compareTo(b.id())).toList();
  }

  public List<Request> requests() {
    return List.copyOf(requests);
  }

  public List<Request> requests(String method, String path) {
    return requests.stream()
        .filter(r -> r.method().equals(method) && r.path().equals(path))
        .toList();
  }

  @Override
  public void close() {
    closed.countDown();
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange;
        InputStream in = exchange.getRequestBody()) {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getRawPath();
      String query = exchange.getRequestURI().getRawQuery();
      String auth = exchange.getRequestHeaders().getFirst("Authorization");
      String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      requests.add(new Request(method, path, query, auth, body, clock.instant()));
      Answer answer = answer(method, path, query, auth, body);
      if (answer.status() == 201 && path.equals("/rest/api/3/issue")) {
        Duration hold = createLatencies.poll();
        if (hold != null && closed.await(hold.toMillis(), TimeUnit.MILLISECONDS)) {
          return;
        }
      }
      answer.headers().forEach((n, v) -> exchange.getResponseHeaders().add(n, v));
      exchange.getResponseHeaders().add("Content-Type", "application/json;charset=UTF-8");
      byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(answer.status(), bytes.length == 0 ? -1 : bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private synchronized Answer answer(
      String method, String path, String query, String auth, String body) {
    Answer scripted = poll(method + " " + path);
    if (scripted != null) {
      return scripted;
    }
    boolean anonymousUser = auth == null;
    if (!anonymousUser && !auth.equals(basic(email, apiToken))) {
      return Answer.of(
          401,
          "{\"message\":\"Client must be authenticated to access this resource.\",\"status-code\":401}");
    }
    boolean search = path.equals("/rest/api/3/search/jql");
    if (anonymousUser && !(search && anonymous == Anonymous.EMPTY_SEARCH)) {
      return Answer.of(
          401,
          "{\"message\":\"Client must be authenticated to access this resource.\",\"status-code\":401}");
    }
    Answer limited = rateLimit(method + " " + path.replaceAll("/[A-Z]+-\\d+|/\\d+", "/{id}"));
    if (limited != null) {
      return limited;
    }
    if (path.equals("/rest/api/3/search") || path.equals("/rest/api/2/search")) {
      return errors(
          410,
          List.of(
              "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"),
          Map.of());
    }
    if (search && (method.equals("GET") || method.equals("POST"))) {
      return anonymousUser
          ? Answer.of(200, "{\"issues\":[],\"isLast\":true}")
          : search(method, query, body);
    }
    if (path.equals("/rest/api/3/issue") && method.equals("POST")) {
      return create(body);
    }
    Matcher m = ISSUE_PATH.matcher(path);
    if (m.matches()) {
      Issue issue = find(m.group(1));
      if (issue == null) {
        return errors(
            404,
            List.of("Issue does not exist or you do not have permission to see it."),
            Map.of());
      }
      if (m.group(2) == null && method.equals("GET")) {
        return Answer.of(200, issueJson(issue).toString());
      }
      if (m.group(2) != null && method.equals("GET")) {
        JsonNode value = issue.properties().get(m.group(2));
        return value == null
            ? errors(
                404,
                List.of("The property with key '" + m.group(2) + "' does not exist."),
                Map.of())
            : Answer.of(
                200, JSON.createObjectNode().put("key", m.group(2)).set("value", value).toString());
      }
      if (m.group(2) != null && method.equals("PUT")) {
        return putProperty(issue, m.group(2), body);
      }
    }
    return errors(404, List.of("Not found: " + method + " " + path), Map.of());
  }

  private Answer create(String body) {
    JsonNode request;
    try {
      request = JSON.readTree(body);
    } catch (IOException e) {
      return errors(400, List.of("Unexpected character: the request body is not JSON"), Map.of());
    }
    JsonNode fields = request == null ? null : request.get("fields");
    if (fields == null || !fields.isObject()) {
      return errors(400, List.of("Issue must have fields"), Map.of());
    }
    Map<String, String> errors = new LinkedHashMap<>();
    String project =
        fields.path("project").path("key").asText(fields.path("project").path("id").asText(""));
    if (project.isEmpty()) {
      errors.put("project", "Specify a valid project ID or key");
    } else if (!projects.contains(project)) {
      return errors(
          400,
          List.of("The value '" + project + "' does not exist for the field 'project'."),
          Map.of());
    }
    JsonNode type = fields.path("issuetype");
    String typeName = type.path("name").asText(null);
    String typeId = type.path("id").asText(null);
    if (typeName == null && typeId == null) {
      errors.put("issuetype", "valid issue type is required");
    } else if ((typeName != null && !issueTypes.containsKey(typeName))
        || (typeId != null && !issueTypes.containsValue(typeId))) {
      errors.put("issuetype", "The issue type selected is invalid.");
    }
    String summary = fields.path("summary").asText("");
    if (!fields.path("summary").isTextual() || summary.isBlank()) {
      errors.put("summary", "You must specify a summary of the issue.");
    } else if (summary.length() > 255) {
      errors.put("summary", "Summary must be less than 255 characters.");
    }
    if (fields.has("description") && !isAdf(fields.get("description"))) {
      errors.put(
          "description",
          "Operation value must be an Atlassian Document (see the Atlassian Document Format)");
    }
    for (JsonNode label : fields.path("labels")) {
      String text = label.asText();
      if (text.contains(" ")) {
        errors.put("labels", "The label '" + text + "' contains spaces which is invalid.");
      } else if (text.length() > 255) {
        errors.put(
            "labels",
            "The label '"
                + text
                + "' exceeds the maximum length for a single label of 255 characters.");
      }
    }
    fields
        .fieldNames()
        .forEachRemaining(
            name -> {
              if (!SETTABLE.matcher(name).matches()) {
                errors.put(
                    name,
                    "Field '"
                        + name
                        + "' cannot be set. It is not on the appropriate screen, or unknown.");
              }
            });
    Map<String, JsonNode> properties = new LinkedHashMap<>();
    for (JsonNode property : request.path("properties")) {
      String key = property.path("key").asText("");
      if (key.isEmpty()
          || key.length() > 255
          || property.path("value").toString().length() > MAX_PROPERTY_CHARS) {
        errors.put(
            "properties",
            "The property key must be 1 to 255 characters and its value at most 32768.");
      }
      properties.put(key, property.path("value"));
    }
    if (!errors.isEmpty()) {
      return errors(400, List.of(), errors);
    }
    String id = Integer.toString(nextId++);
    int number = counters.merge(project, 1, Integer::sum);
    String key = project + "-" + number;
    Instant now = clock.instant();
    ObjectNode stored = ((ObjectNode) fields).deepCopy();
    stored.put("created", now.toString());
    issues.put(
        id,
        new Issue(id, key, stored, new ConcurrentHashMap<>(properties), now, now.plus(indexLag)));
    return Answer.of(
        201,
        JSON.createObjectNode()
            .put("id", id)
            .put("key", key)
            .put("self", baseUrl() + "/rest/api/3/issue/" + id)
            .toString());
  }

  private Answer putProperty(Issue issue, String key, String body) {
    JsonNode value;
    try {
      value = JSON.readTree(body);
    } catch (IOException e) {
      value = null;
    }
    if (value == null || value.isMissingNode() || body.isBlank()) {
      return errors(400, List.of("The property value must be valid non-empty JSON."), Map.of());
    }
    if (key.length() > 255 || body.length() > MAX_PROPERTY_CHARS) {
      return errors(400, List.of("The property key or value is too long."), Map.of());
    }
    boolean existed = issue.properties().put(key, value) != null;
    Instant now = clock.instant();
    issues.put(
        issue.id(),
        new Issue(
            issue.id(),
            issue.key(),
            issue.fields(),
            issue.properties(),
            issue.createdAt(),
            now.plus(indexLag)));
    return new Answer(existed ? 200 : 201, Map.of(), "");
  }

  private Answer search(String method, String query, String body) {
    String jql;
    List<String> fields = new ArrayList<>();
    List<String> reconcile = new ArrayList<>();
    int maxResults = 50;
    int offset = 0;
    try {
      JsonNode params;
      if (method.equals("POST")) {
        params = JSON.readTree(body);
      } else {
        ObjectNode p = JSON.createObjectNode();
        for (String pair : query == null ? new String[0] : query.split("&")) {
          String[] kv = pair.split("=", 2);
          String v = kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "";
          String k = URLDecoder.decode(kv[0], StandardCharsets.UTF_8);
          if (k.equals("fields") || k.equals("reconcileIssues")) {
            ArrayNode list = p.withArray(k);
            for (String item : v.split(",")) {
              list.add(item);
            }
          } else {
            p.put(k, v);
          }
        }
        params = p;
      }
      jql = params.path("jql").asText("");
      params.path("fields").forEach(f -> fields.add(f.asText()));
      params.path("reconcileIssues").forEach(f -> reconcile.add(f.asText()));
      maxResults = Math.min(5000, params.path("maxResults").asInt(50));
      String token = params.path("nextPageToken").asText(null);
      if (token != null) {
        offset =
            Integer.parseInt(new String(Base64.getDecoder().decode(token), StandardCharsets.UTF_8));
      }
    } catch (IOException | IllegalArgumentException e) {
      return errors(400, List.of("Invalid request payload."), Map.of());
    }
    if (jql.isBlank()) {
      return errors(
          400,
          List.of(
              "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."),
          Map.of());
    }
    if (reconcile.size() > 50) {
      return errors(400, List.of("reconcileIssues takes at most 50 issue ids."), Map.of());
    }
    List<String[]> clauses = new ArrayList<>();
    for (String clause : jql.split("(?i)\\s+AND\\s+")) {
      Matcher m = CLAUSE.matcher(clause);
      if (!m.matches()) {
        return errors(
            400,
            List.of(
                "Error in the JQL Query: the query '"
                    + clause.strip()
                    + "' is not supported here."),
            Map.of());
      }
      String value = m.group(5) != null ? m.group(5).replaceAll("\\\\(.)", "$1") : m.group(4);
      if (m.group(2) != null && !propertiesIndexed) {
        return errors(
            400,
            List.of(
                "Field 'issue.property["
                    + m.group(2)
                    + "]."
                    + m.group(3)
                    + "' does not exist or you do not have permission to view it."),
            Map.of());
      }
      clauses.add(new String[] {m.group(1).toLowerCase(), value, m.group(2), m.group(3)});
    }
    Instant now = clock.instant();
    List<Issue> hits =
        issues().stream()
            .filter(i -> !now.isBefore(i.indexedAt()) || reconcile.contains(i.id()))
            .filter(i -> clauses.stream().allMatch(c -> matches(i, c)))
            .toList();
    ObjectNode result = JSON.createObjectNode();
    ArrayNode page = result.putArray("issues");
    int end = Math.min(hits.size(), offset + maxResults);
    for (Issue issue : hits.subList(Math.min(offset, hits.size()), end)) {
      if (fields.isEmpty()) {
        page.addObject().put("id", issue.id());
      } else {
        ObjectNode json =
            page.addObject()
                .put("id", issue.id())
                .put("key", issue.key())
                .put("self", baseUrl() + "/rest/api/3/issue/" + issue.id());
        ObjectNode f = json.putObject("fields");
        for (String name : fields) {
          if (issue.fields().has(name)) {
            f.set(name, issue.fields().get(name));
          }
        }
      }
    }
    boolean last = end >= hits.size();
    result.put("isLast", last);
    if (!last) {
      result.put(
          "nextPageToken",
          Base64.getEncoder()
              .encodeToString(Integer.toString(end).getBytes(StandardCharsets.UTF_8)));
    }
    return Answer.of(200, result.toString());
  }

  private static boolean matches(Issue issue, String[] clause) {
    return switch (clause[0]) {
      case "project" -> issue.key().startsWith(clause[1] + "-");
      case "labels" -> issue.labels().contains(clause[1]);
      case "key" -> issue.key().equals(clause[1]);
      default -> {
        JsonNode property = issue.properties().get(clause[2]);
        yield property != null && property.path(clause[3]).asText("").equals(clause[1]);
      }
    };
  }

  private Issue find(String idOrKey) {
    Issue byId = issues.get(idOrKey);
    return byId != null
        ? byId
        : issues.values().stream().filter(i -> i.key().equals(idOrKey)).findFirst().orElse(null);
  }

  private ObjectNode issueJson(Issue issue) {
    ObjectNode json =
        JSON.createObjectNode()
            .put("id", issue.id())
            .put("key", issue.key())
            .put("self", baseUrl() + "/rest/api/3/issue/" + issue.id());
    json.set("fields", issue.fields());
    return json;
  }

  private Answer poll(String endpoint) {
    ConcurrentLinkedQueue<Answer> queue = scripts.get(endpoint);
    return queue == null ? null : queue.poll();
  }

  /** A fixed one-second window per endpoint and method, like Jira's burst limits. */
  private Answer rateLimit(String endpoint) {
    if (burstPerSecond == Integer.MAX_VALUE) {
      return null;
    }
    Instant now = clock.instant();
    Window window = windows.get(endpoint);
    if (window == null || !now.isBefore(window.start().plusSeconds(1))) {
      window = new Window(now, 0);
    }
    if (window.used() < burstPerSecond) {
      windows.put(endpoint, new Window(window.start(), window.used() + 1));
      return null;
    }
    Instant reset = window.start().plusSeconds(1);
    long seconds = Math.max(1, (long) Math.ceil(Duration.between(now, reset).toMillis() / 1000.0));
    Instant resetMinute = reset.truncatedTo(ChronoUnit.MINUTES).plus(1, ChronoUnit.MINUTES);
    return errors(429, List.of("Rate limit exceeded."), Map.of())
        .header("Retry-After", Long.toString(seconds))
        .header("X-RateLimit-Reset", RESET.format(resetMinute))
        .header("X-RateLimit-Limit", Integer.toString(burstPerSecond))
        .header("X-RateLimit-Remaining", "0")
        .header("RateLimit-Reason", "jira-burst-based");
  }

  private static boolean isAdf(JsonNode node) {
    if (node == null
        || !node.isObject()
        || !node.path("type").asText().equals("doc")
        || node.path("version").asInt() != 1
        || !node.path("content").isArray()) {
      return false;
    }
    return validNodes(node.path("content"));
  }

  private static boolean validNodes(JsonNode content) {
    for (JsonNode child : content) {
      if (!child.path("type").isTextual()) {
        return false;
      }
      if (child.path("type").asText().equals("text") && child.path("text").asText("").isEmpty()) {
        return false; // ADF: a text node holds at least one character
      }
      if (child.has("content") && !validNodes(child.path("content"))) {
        return false;
      }
    }
    return true;
  }

  private static Answer errors(int status, List<String> messages, Map<String, String> errors) {
    ObjectNode body = JSON.createObjectNode();
    ArrayNode list = body.putArray("errorMessages");
    messages.forEach(list::add);
    ObjectNode map = body.putObject("errors");
    errors.forEach(map::put);
    return Answer.of(status, body.toString());
  }

  static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }
}
