package dev.switchboard.pull.genesys;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.config.PullConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A backfill rebuilds, from a conversation's Analytics record, the event its conversation topic
 * streamed: on Genesys's own sample pair (the same conversation as a queue-conversation message and
 * as an Analytics record), the rebuilt event has the streamed one's key, time and main fields.
 */
class BackfillTest {
  static final Path SAMPLES = Path.of("src/test/resources/samples/genesys");
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theRebuiltEventOfGenesysSamplePairHasTheStreamedEventsKeyAndTime() throws Exception {
    JsonNode streamed =
        JSON.readTree(SAMPLES.resolve("websocket-queue-conversation.json").toFile());
    JsonNode record =
        JSON.readTree(SAMPLES.resolve("analytics-conversation-details.json").toFile());
    String topic = streamed.path("topicName").asText();

    List<ObjectNode> rebuilt = Backfill.envelopes(record, Set.of(topic));

    assertThat(rebuilt).hasSize(1);
    ObjectNode envelope = rebuilt.get(0);
    assertThat(envelope.path("topicName").asText()).isEqualTo(topic);
    assertThat(envelope.path("metadata").path("switchboardBackfill").asBoolean()).isTrue();
    Map<String, String> fromStream = Messages.headers(streamed, streamed.toString());
    Map<String, String> fromBackfill = Messages.headers(envelope, envelope.toString());
    assertThat(fromBackfill.get(PullConfig.KEY_HEADER))
        .isEqualTo(fromStream.get(PullConfig.KEY_HEADER))
        .isEqualTo(topic + "|6a1f0c3e-2b7d-4e59-8c14-9d0a7b3e5f21|2026-04-14T10:15:31.842Z");
    assertThat(fromBackfill.get(PullConfig.TIME_HEADER))
        .isEqualTo(fromStream.get(PullConfig.TIME_HEADER));

    JsonNode body = envelope.path("eventBody");
    JsonNode agent = participant(body, "agent");
    JsonNode streamedAgent = participant(streamed.path("eventBody"), "agent");
    for (String field : List.of("id", "userId", "queueId", "connectedTime", "endTime")) {
      assertThat(agent.path(field)).as(field).isEqualTo(streamedAgent.path(field));
    }
    assertThat(agent.path("wrapup").path("code"))
        .isEqualTo(streamedAgent.path("wrapup").path("code"));
    assertThat(agent.path("wrapup").path("durationSeconds").asInt())
        .isEqualTo(streamedAgent.path("wrapup").path("durationSeconds").asInt());
    assertThat(agent.path("endAcwTime")).isEqualTo(streamedAgent.path("endAcwTime"));
    JsonNode customer = participant(body, "customer");
    JsonNode streamedCustomer = participant(streamed.path("eventBody"), "customer");
    assertThat(customer.path("endTime")).isEqualTo(streamedCustomer.path("endTime"));
    assertThat(customer.path("calls").get(0).path("disconnectType"))
        .isEqualTo(streamedCustomer.path("calls").get(0).path("disconnectType"));
    assertThat(customer.path("calls").get(0).path("state").asText()).isEqualTo("disconnected");
  }

  @Test
  void onlySubscribedConversationTopicsAreRebuilt() throws Exception {
    JsonNode record =
        JSON.readTree(SAMPLES.resolve("analytics-conversation-details.json").toFile());
    String queue = "v2.routing.queues.f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f.conversations";
    String user = "v2.users.8b2f6a10-4c3d-4e5f-9a0b-1c2d3e4f5a6b.conversations";
    assertThat(Backfill.envelopes(record, Set.of("v2.routing.queues.other.conversations")))
        .isEmpty();
    assertThat(Backfill.envelopes(record, Set.of(queue, user, "v2.users.x.presence")))
        .extracting(e -> e.path("topicName").asText())
        .containsExactly(queue, user);
    assertThat(Backfill.backfillable(queue)).isTrue();
    assertThat(Backfill.backfillable(user)).isTrue();
    assertThat(Backfill.backfillable("v2.users.8b2f6a10.presence")).isFalse();
    assertThat(Backfill.backfillable("v2.detail.events.conversation.x.customer.end")).isFalse();
  }

  @Test
  void aConversationChangedInAGapWhenItEndedInItOrGoesOn() throws Exception {
    JsonNode record =
        JSON.readTree(SAMPLES.resolve("analytics-conversation-details.json").toFile());
    Instant end = Instant.parse("2026-04-14T10:15:31.842Z");
    assertThat(Backfill.changedIn(record, end.minusSeconds(60), end.plusSeconds(1))).isTrue();
    assertThat(Backfill.changedIn(record, end.plusSeconds(1), end.plusSeconds(600))).isFalse();
    // the customer's segment ended at 10:14:50: a gap around it alone still finds the conversation
    Instant customerEnd = Instant.parse("2026-04-14T10:14:50.480Z");
    assertThat(Backfill.changedIn(record, customerEnd.minusSeconds(1), customerEnd.plusSeconds(1)))
        .isTrue();
    ObjectNode ongoing = record.deepCopy();
    ongoing.remove("conversationEnd");
    assertThat(Backfill.changedIn(ongoing, end.plusSeconds(3600), end.plusSeconds(7200))).isTrue();
  }

  @Test
  void aMessageWithoutIdOrTimeIsKeyedByItsText() {
    ObjectNode a = JSON.createObjectNode().put("topicName", "v2.users.u1.presence");
    a.putObject("eventBody").put("source", "PURECLOUD");
    ObjectNode b = a.deepCopy();
    ((ObjectNode) b.path("eventBody")).put("source", "OTHER");
    String keyA = Messages.headers(a, a.toString()).get(PullConfig.KEY_HEADER);
    assertThat(keyA).startsWith("v2.users.u1.presence|sha256:");
    assertThat(Messages.headers(a, a.toString()).get(PullConfig.KEY_HEADER)).isEqualTo(keyA);
    assertThat(Messages.headers(b, b.toString()).get(PullConfig.KEY_HEADER)).isNotEqualTo(keyA);
    assertThat(Messages.headers(a, a.toString())).doesNotContainKey(PullConfig.TIME_HEADER);
  }

  @Test
  void aDetailEventsEpochMillisecondTimeIsItsTime() throws Exception {
    JsonNode body =
        JSON.readTree(SAMPLES.resolve("notification-customer-end-eventbody.json").toFile());
    ObjectNode envelope = JSON.createObjectNode();
    envelope.put("topicName", "v2.detail.events.conversation.x.customer.end");
    envelope.set("eventBody", body);
    Instant eventTime = Instant.ofEpochMilli(body.path("eventTime").asLong());
    assertThat(Messages.latestTime(body)).isEqualTo(eventTime);
    assertThat(Messages.headers(envelope, envelope.toString()).get(PullConfig.KEY_HEADER))
        .isEqualTo(
            "v2.detail.events.conversation.x.customer.end|"
                + body.path("conversationId").asText()
                + "|"
                + eventTime);
  }

  static JsonNode participant(JsonNode body, String purpose) {
    for (JsonNode p : body.path("participants")) {
      if (purpose.equals(p.path("purpose").asText())) {
        return p;
      }
    }
    throw new AssertionError("no " + purpose + " participant");
  }
}
