package dev.switchboard.demo.genesys;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** The JSON the fake writes: notification envelopes, socket messages and HTTP bodies. */
final class Envelopes {
  static final ObjectMapper JSON = new ObjectMapper();

  private Envelopes() {}

  /** {@code {topicName, version: "2", eventBody, metadata: {CorrelationId}}}. */
  static String event(String topic, Object eventBody) {
    Map<String, Object> envelope = new LinkedHashMap<>();
    envelope.put("topicName", topic);
    envelope.put("version", "2");
    envelope.put("eventBody", eventBody);
    envelope.put("metadata", Map.of("CorrelationId", UUID.randomUUID().toString()));
    return write(envelope);
  }

  /** The {@code v2.system.socket_closing} event sent on {@code channelId}'s socket. */
  static String socketClosing(String channelId, String clientId) {
    String correlation = UUID.randomUUID().toString();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("channelId", channelId);
    body.put("systemTopicType", "socket_closing");
    body.put("correlationId", correlation);
    body.put("organizationId", "0b7e4c12-5d3a-4f8e-9a61-2c7d8e9f0a11");
    body.put("userId", "3c5e7a9b-1d2f-4a6b-8c0d-2e4f6a8b0c1d");
    body.put("oauthClientId", clientId);
    body.put("reason", "maintenance");
    body.put("message", "This socket will close soon; open a new one.");
    body.put("data", Map.of());
    Map<String, Object> envelope = new LinkedHashMap<>();
    envelope.put("topicName", "v2.system.socket_closing");
    envelope.put("version", "2");
    envelope.put("eventBody", body);
    envelope.put("metadata", Map.of("CorrelationId", correlation));
    return write(envelope);
  }

  /** A {@code channel.metadata} message: a heartbeat or a pong. */
  static String metadata(String message) {
    return write(Map.of("topicName", "channel.metadata", "eventBody", Map.of("message", message)));
  }

  static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not serialisable as JSON", e);
    }
  }
}
