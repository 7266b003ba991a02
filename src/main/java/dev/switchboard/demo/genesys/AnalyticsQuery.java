package dev.switchboard.demo.genesys;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The part of {@code POST /api/v2/analytics/conversations/details/query} the fake understands: the
 * interval (conversations whose start is in it, start inclusive, end exclusive), the order by
 * conversation start, paging, and the segment filters' string property predicates ({@code {type:
 * "property", propertyType: "string", property, value}}: a participant attribute), which only
 * callbacks answer. Other fields (dimension predicates, orderBy) are ignored.
 *
 * @param properties the property predicates, attribute name to value; empty when none
 */
record AnalyticsQuery(
    Instant from,
    Instant to,
    boolean descending,
    int pageSize,
    int pageNumber,
    Map<String, String> properties) {
  /** The largest page Genesys serves. */
  static final int MAX_PAGE_SIZE = 100;

  private static final int DEFAULT_PAGE_SIZE = 25;

  static AnalyticsQuery parse(ObjectMapper json, String body) {
    JsonNode query;
    try {
      query = json.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("The query is not JSON.");
    }
    String[] interval = query.path("interval").asText("").split("/", -1);
    if (interval.length != 2) {
      throw ApiError.badRequest("The interval must be <start>/<end> in ISO-8601.");
    }
    Instant from;
    Instant to;
    try {
      from = Instant.parse(interval[0]);
      to = Instant.parse(interval[1]);
    } catch (DateTimeParseException e) {
      throw ApiError.badRequest("The interval must be <start>/<end> in ISO-8601.");
    }
    int pageSize = query.path("paging").path("pageSize").asInt(DEFAULT_PAGE_SIZE);
    int pageNumber = query.path("paging").path("pageNumber").asInt(1);
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE || pageNumber < 1) {
      throw ApiError.badRequest(
          "pageSize must be 1 to " + MAX_PAGE_SIZE + " and pageNumber at least 1.");
    }
    boolean descending = "desc".equalsIgnoreCase(query.path("order").asText("asc"));
    Map<String, String> properties = new LinkedHashMap<>();
    for (JsonNode filter : query.path("segmentFilters")) {
      for (JsonNode predicate : filter.path("predicates")) {
        if ("property".equals(predicate.path("type").asText())) {
          properties.put(predicate.path("property").asText(), predicate.path("value").asText());
        }
      }
    }
    return new AnalyticsQuery(from, to, descending, pageSize, pageNumber, properties);
  }

  /** {@code {conversations: [...], totalHits}}, without {@code conversations} on an empty page. */
  Map<String, Object> answer(Collection<VoiceConversation> stored) {
    Comparator<VoiceConversation> order =
        Comparator.comparing(VoiceConversation::start).thenComparing(VoiceConversation::id);
    List<VoiceConversation> hits =
        stored.stream()
            .filter(c -> !c.start().isBefore(from) && c.start().isBefore(to))
            .sorted(descending ? order.reversed() : order)
            .toList();
    List<Map<String, Object>> page =
        hits.stream()
            .skip((long) (pageNumber - 1) * pageSize)
            .limit(pageSize)
            .map(VoiceConversation::analyticsRecord)
            .toList();
    Map<String, Object> answer = new LinkedHashMap<>();
    if (!page.isEmpty()) {
      answer.put("conversations", page); // Genesys leaves empty arrays out
    }
    answer.put("totalHits", hits.size());
    return answer;
  }
}
