package dev.switchboard.emulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * Generates a realistic stream of Genesys events: varied ids, agents, codes and timestamps, with
 * exact re-sends (an at-least-once sender's duplicates), supervisor overrides (the same interaction
 * dispositioned again later) and late events (timestamps earlier than those already sent). Not
 * thread-safe: one generator feeds one emulator.
 */
public final class EventGenerator {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int REMEMBERED = 256;

  static final String[][] CODES = {
    {"RESOLVED", "Customer issue resolved"},
    {"CALLBACK", "Callback scheduled"},
    {"ESCALATED", "Escalated to tier 2"},
    {"NO_ANSWER", "No answer"},
    {"SALE", "Sale completed"},
    {"NOT_INTERESTED", "Not interested"},
    {"VOICEMAIL", "Left voicemail"},
    {"INTERESTED_CALLBACK", "Interested - Callback Scheduled"}
  };

  /** One generated request body and what it is. */
  public record Emitted(byte[] body, Kind kind, Instant eventTime, String interactionId) {
    /** Why this body was generated. */
    public enum Kind {
      NEW,
      DUPLICATE,
      OVERRIDE,
      LATE
    }
  }

  /** The ratios of special events, each in [0, 1]; they are drawn in this order. */
  public record Mix(double duplicates, double outOfOrder, double overrides) {
    public static final Mix PLAIN = new Mix(0, 0, 0);

    public Mix {
      for (double r : new double[] {duplicates, outOfOrder, overrides}) {
        if (r < 0 || r > 1) {
          throw new IllegalArgumentException("ratios are between 0 and 1");
        }
      }
      if (duplicates + outOfOrder + overrides > 1) {
        throw new IllegalArgumentException("duplicate, out-of-order and override ratios exceed 1");
      }
    }
  }

  private record Interaction(
      String interactionId,
      String conversationId,
      String contactId,
      String phone,
      String campaignId,
      Instant time) {}

  private final PayloadKind kind;
  private final Mix mix;
  private final Random random;
  private final List<String> agents = new ArrayList<>();
  private final List<byte[]> sentBodies = new ArrayList<>();
  private final List<Interaction> interactions = new ArrayList<>();
  private Instant clock;

  public EventGenerator(PayloadKind kind, Mix mix, long seed, Instant start) {
    this.kind = kind;
    this.mix = mix;
    this.random = new Random(seed);
    this.clock = start.truncatedTo(ChronoUnit.MILLIS);
    for (int i = 0; i < 25; i++) {
      agents.add(uuid());
    }
  }

  /** The next body to send. */
  public Emitted next() {
    clock = clock.plusMillis(200 + random.nextInt(3_000));
    double draw = random.nextDouble();
    if (draw < mix.duplicates() && !sentBodies.isEmpty()) {
      byte[] again = sentBodies.get(random.nextInt(sentBodies.size()));
      return new Emitted(again, Emitted.Kind.DUPLICATE, null, null);
    }
    draw -= mix.duplicates();
    Emitted emitted;
    if (draw >= 0 && draw < mix.outOfOrder() && !interactions.isEmpty()) {
      Instant late = clock.minus(Duration.ofSeconds(30 + random.nextInt(600)));
      emitted = fresh(late, Emitted.Kind.LATE);
    } else if (draw >= mix.outOfOrder()
        && draw < mix.outOfOrder() + mix.overrides()
        && !interactions.isEmpty()) {
      int index = random.nextInt(interactions.size());
      Interaction earlier = interactions.get(index);
      Interaction later =
          new Interaction(
              earlier.interactionId(),
              earlier.conversationId(),
              earlier.contactId(),
              earlier.phone(),
              earlier.campaignId(),
              later(earlier.time()));
      interactions.set(index, later);
      emitted =
          new Emitted(
              render(later, true), Emitted.Kind.OVERRIDE, later.time(), later.interactionId());
    } else {
      emitted = fresh(clock, Emitted.Kind.NEW);
    }
    remember(sentBodies, emitted.body());
    return emitted;
  }

  private Instant later(Instant earlier) {
    Instant t = earlier.plusSeconds(60 + random.nextInt(600));
    return t.isAfter(clock) ? t : clock.plusMillis(1);
  }

  private Emitted fresh(Instant time, Emitted.Kind why) {
    Interaction i =
        new Interaction(
            uuid(),
            uuid(),
            "c-" + (100_000 + random.nextInt(900_000)),
            "+1555" + (1_000_000 + random.nextInt(9_000_000)),
            uuid(),
            time);
    remember(interactions, i);
    return new Emitted(render(i, false), why, time, i.interactionId());
  }

  private <T> void remember(List<T> list, T item) {
    if (list.size() >= REMEMBERED) {
      list.set(random.nextInt(REMEMBERED), item);
    } else {
      list.add(item);
    }
  }

  private byte[] render(Interaction i, boolean override) {
    String agent = agents.get(random.nextInt(agents.size()));
    String[] code = CODES[random.nextInt(CODES.length)];
    String ts = i.time().toString();
    ObjectNode n = JSON.createObjectNode();
    switch (kind) {
      case DISPOSITION -> {
        n.put("id", uuid()).put("type", "Disposition").put("userId", agent);
        n.put("contactCenterId", "cc-emea-0" + (1 + random.nextInt(3)));
        n.put("conversationId", i.conversationId()).put("interactionId", i.interactionId());
        n.put("timestamp", ts).put("status", override ? "Updated" : "Created");
        ObjectNode d = n.putObject("disposition");
        d.put("code", code[0]).put("description", code[1]).put("userId", agent);
        d.put("timestamp", ts);
        n.putObject("contact").put("id", i.contactId()).put("phoneNumber", i.phone());
        n.putArray("recordingUrls")
            .add("https://recordings.example.invalid/" + i.conversationId() + ".opus");
        n.putArray("mediaUrls");
      }
      case CONVERSATION_COMPLETED -> {
        n.put("id", uuid()).put("eventType", "CONVERSATION_COMPLETED").put("createdAt", ts);
        ObjectNode c = n.putObject("conversation");
        c.put("id", i.interactionId())
            .put("direction", random.nextBoolean() ? "INBOUND" : "OUTBOUND");
        c.put("state", "COMPLETED");
        ObjectNode contact = c.putObject("contact").put("id", i.contactId());
        contact
            .putArray("externalContacts")
            .addObject()
            .put("externalId", i.contactId().substring(2));
        c.putObject("primaryContact").put("phoneNumber", i.phone());
        c.put("routingStatus", "COMPLETED");
        c.putArray("tags").addObject().put("id", "t-1").put("label", code[1]);
      }
      case ACTION_MAP -> {
        n.put("campaignId", i.campaignId()).put("campaignName", "Q4_Retention_Outbound");
        n.put("contactId", i.interactionId()).put("contactNumber", i.phone());
        n.put("callOutcome", random.nextInt(4) == 0 ? "no_answer" : "answered");
        n.put("agentId", agent).put("agentName", "Agent_" + (1000 + agents.indexOf(agent)));
        n.put("dispositionCode", code[0]).put("dispositionLabel", code[1]);
        n.put("callDurationSeconds", 10 + random.nextInt(900)).put("timestamp", ts);
        n.put(
            "webhookEventId",
            i.campaignId() + "-" + i.interactionId() + "-" + Integer.toHexString(random.nextInt()));
      }
      case CALL_DISPOSITIONED -> {
        String id = override ? uuid() : i.interactionId();
        n.put("id", id).put("eventType", "call.dispositioned");
        n.put("entityType", "CallDisposition").put("timestamp", ts);
        n.put("resourceUri", "/api/v2/calldispositions/" + i.interactionId()).put("userId", agent);
        ObjectNode d = n.putObject("data");
        d.put("callDisposition", code[0]).put("duration", 10 + random.nextInt(900));
        d.put("campaignId", i.campaignId());
      }
      case EVENTBRIDGE_ACW -> {
        n.put("version", "0").put("id", uuid());
        n.put("detail-type", "v2.detail.events.conversation.{id}.acw");
        n.put(
            "source",
            "aws.partner/genesys.com/cloud/0b7e4c12-5d3a-4f8e-9a61-2c7d8e9f0a11/switchboard-test");
        n.put("account", "111122223333")
            .put("time", i.time().truncatedTo(ChronoUnit.SECONDS).toString());
        n.put("region", "us-east-1").putArray("resources");
        ObjectNode detail = n.putObject("detail");
        detail.put("topicName", "v2.detail.events.conversation." + i.interactionId() + ".acw");
        detail.put("version", "2");
        ObjectNode b = detail.putObject("eventBody");
        b.put("eventTime", i.time().toEpochMilli()).put("conversationId", i.interactionId());
        b.put("participantId", uuid()).put("sessionId", uuid()).put("mediaType", "VOICE");
        b.put("provider", "Edge").put("direction", "INBOUND");
        b.put("ani", "tel:" + i.phone()).put("dnis", "tel:+15555550100");
        b.put("userId", agent).put("queueId", i.campaignId()).put("wrapupCode", uuid());
        b.put("wrapupNotes", code[1]).put("wrapupDurationMs", 1_000 + random.nextInt(60_000));
        b.putArray("conversationExternalContactIds").add(i.contactId());
        b.putArray("conversationExternalOrganizationIds");
        detail.putObject("metadata").put("CorrelationId", uuid());
        detail.put("timestamp", ts);
      }
    }
    return n.toString().getBytes(StandardCharsets.UTF_8);
  }

  private String uuid() {
    return new UUID(random.nextLong(), random.nextLong()).toString();
  }
}
