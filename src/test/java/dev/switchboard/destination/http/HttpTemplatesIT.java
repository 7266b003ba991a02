package dev.switchboard.destination.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Request;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * URL and header templates of the {@code http} destination, and a route's method, seen at a local
 * receiver: what arrives is what the template and the delivery made, each value one segment.
 */
@Timeout(60)
class HttpTemplatesIT {
  static final String TICKETS = "/v1/tickets/{ticketId}?expand={$eventId}";

  final FakeDestination api = new FakeDestination();
  final List<HttpDestination> opened = new ArrayList<>();

  @AfterEach
  void close() {
    opened.forEach(HttpDestination::close);
    api.close();
  }

  HttpDestination destination(String pathTemplate, Map<String, Object> keys) {
    Map<String, Object> all = new HashMap<>(keys);
    all.put("url", "http://127.0.0.1:" + api.uri("/").getPort() + pathTemplate);
    DestinationConfig config = DestinationConfigs.load("tickets", "http", all, null, 4);
    HttpDestination d =
        (HttpDestination)
            new HttpConnector().create(config, new ConnectorContext(Clock.systemUTC(), null));
    opened.add(d);
    return d;
  }

  static OutboundDelivery delivery(String body, String method, Map<String, ?> bindings) {
    return new OutboundDelivery(
        "dlv-1",
        "evt-1",
        "key-1",
        null,
        body.getBytes(StandardCharsets.UTF_8),
        Map.of(),
        1,
        method,
        bindings);
  }

  @Test
  void aPayloadValueWithSlashDotsQueryOrFragmentStaysOneEncodedSegment() {
    HttpDestination d = destination(TICKETS, Map.of());

    DeliveryResult result =
        d.send(
            delivery(
                "{\"ticketId\":\"../admin/x?y=1#frag\"}",
                null,
                Map.of("eventId", "evt 1&debug=true")));

    assertThat(result).isInstanceOf(Delivered.class);
    Request request = api.requests().get(0);
    assertThat(request.pathAndQuery())
        .isEqualTo("/v1/tickets/..%2Fadmin%2Fx%3Fy%3D1%23frag?expand=evt%201%26debug%3Dtrue");
    assertThat(request.method()).isEqualTo("POST");
  }

  @Test
  void aNumberFillsAPlaceholderWithoutADecimalPointAndAnEnrichmentIsABinding() {
    HttpDestination d = destination("/v1/contacts/{$contact.id}/tickets/{ticketId}", Map.of());

    d.send(delivery("{\"ticketId\":42}", null, Map.of("contact", Map.of("id", "C/7"))));

    assertThat(api.requests().get(0).pathAndQuery()).isEqualTo("/v1/contacts/C%2F7/tickets/42");
  }

  @Test
  void aRoutesMethodReplacesTheDestinations() {
    HttpDestination d = destination(TICKETS, Map.of("method", "POST"));

    d.send(delivery("{\"ticketId\":\"T-1\"}", "PATCH", Map.of("eventId", "e1")));
    d.send(delivery("{\"ticketId\":\"T-2\"}", null, Map.of("eventId", "e2")));

    assertThat(api.requests()).extracting(Request::method).containsExactly("PATCH", "POST");
    assertThat(api.requests().get(0).bodyText()).isEqualTo("{\"ticketId\":\"T-1\"}");
  }

  @Test
  void aPlaceholderWithoutAValueDeadLettersNamingThePlaceholderNeverAValue() {
    HttpDestination d = destination(TICKETS, Map.of());

    DeliveryResult missing =
        d.send(delivery("{\"other\":\"secret-ish-value\"}", null, Map.of("eventId", "e1")));
    DeliveryResult object =
        d.send(delivery("{\"ticketId\":{\"n\":\"inner-value\"}}", null, Map.of("eventId", "e1")));
    DeliveryResult notJson = d.send(delivery("plain text", null, Map.of("eventId", "e1")));

    assertThat(missing)
        .isInstanceOfSatisfying(
            Rejected.class,
            r ->
                assertThat(r.error())
                    .isEqualTo("url template: {ticketId} has no value in this event"));
    assertThat(object)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> assertThat(r.error()).contains("{ticketId}").doesNotContain("inner-value"));
    assertThat(notJson).isInstanceOf(Rejected.class);
    assertThat(api.requests()).isEmpty();
  }

  @Test
  void headerTemplatesAreFilledAndALineBreakIsRefused() {
    HttpDestination d =
        destination(
            "/v1/tickets",
            Map.of("headers", Map.of("X-Ticket", "ticket {ticketId}", "X-Static", "plain")));

    d.send(delivery("{\"ticketId\":\"T/1\"}", null, Map.of()));
    DeliveryResult injected =
        d.send(delivery("{\"ticketId\":\"T-2\\r\\nX-Evil: 1\"}", null, Map.of()));

    Request request = api.requests().get(0);
    assertThat(request.header("X-Ticket")).isEqualTo("ticket T/1");
    assertThat(request.header("X-Static")).isEqualTo("plain");
    assertThat(injected)
        .isInstanceOfSatisfying(
            Rejected.class,
            r ->
                assertThat(r.error())
                    .isEqualTo(
                        "header X-Ticket template: {ticketId} holds a line break or control"
                            + " character in this event"));
    assertThat(api.requests()).hasSize(1);
  }

  @Test
  void theSafeTargetShowsTheTemplateNeverValuesNorTheQuery() {
    HttpDestination d = destination("/v1/tickets/{ticketId}?sig=0123456789abcdef&x={a}", Map.of());

    assertThat(d.settings().safeTarget()).endsWith("/v1/tickets/{ticketId}").doesNotContain("sig");
    assertThat(d.settings().templateVariables()).isEmpty();
    assertThat(destination(TICKETS, Map.of()).settings().templateVariables())
        .containsExactly("eventId");
  }
}
