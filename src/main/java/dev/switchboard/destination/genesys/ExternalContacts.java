package dev.switchboard.destination.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.config.EnrichPath;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.genesys.GenesysCalls.NoAnswer;
import dev.switchboard.destination.http.HttpTransport;
import dev.switchboard.expr.ExpressionException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@code external-contact} operation: the body is an {@code ExternalContact} ({@code
 * firstName}, {@code lastName}, {@code cellPhone: {e164Number}}, {@code workEmail}, …); the contact
 * that has the same {@code match_on} value is updated, else one is created.
 *
 * <p>Lookup first, always: {@code GET /api/v2/externalcontacts/contacts?q=<value>} (a free-text
 * search), keeping only the contacts whose {@code match_on} field is exactly the body's (phones
 * compared by their digits, e-mails without case). None: {@code POST} the body. One: {@code PUT} it
 * over the contact found (PUT replaces the record, so the fields the body leaves out keep the found
 * contact's values). Several: dead, as nothing says which one is meant.
 *
 * <p>So a retry after a lost answer updates the contact the first attempt created, provided the
 * search shows it by then: the search index lags a create by a moment, so a create that timed out
 * makes its retry wait at least {@link Callbacks#INDEX_LAG}.
 */
final class ExternalContacts {
  static final String PATH = "/api/v2/externalcontacts/contacts";
  static final EnrichPath CONTACT = EnrichPath.template(PATH + "/{id}");
  private static final List<String> PHONES =
      List.of("cellPhone", "workPhone", "homePhone", "otherPhone");
  private static final List<String> EMAILS = List.of("workEmail", "personalEmail", "otherEmail");
  private static final int PAGE_SIZE = 50;

  private final GenesysCalls calls;
  private final String matchOn;
  private final Clock clock;

  /** Striped by key: bounded, and two keys rarely share one (they then only wait, never fail). */
  private final ReentrantLock[] stripes = new ReentrantLock[64];

  ExternalContacts(GenesysCalls calls, String matchOn, Clock clock) {
    this.calls = calls;
    this.matchOn = matchOn;
    this.clock = clock;
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new ReentrantLock(); // not synchronized: virtual threads wait on it
    }
  }

  DeliveryResult createOrUpdate(ObjectNode body) throws NoAnswer {
    List<String> keys = keysOf(body);
    if (keys.isEmpty()) {
      return GenesysOutcomes.refused("the contact has no " + matchOn + " to match on");
    }
    // two deliveries of one person at once would both find nobody and both create: one at a
    // time per key on this node (across nodes, ordering: per-key on the same value does it)
    ReentrantLock lock = stripes[Math.floorMod(keys.get(0).hashCode(), stripes.length)];
    lock.lock();
    try {
      return lookUpThenWrite(body, keys);
    } finally {
      lock.unlock();
    }
  }

  private DeliveryResult lookUpThenWrite(ObjectNode body, List<String> keys) throws NoAnswer {
    String q = URLEncoder.encode(keys.get(0), StandardCharsets.UTF_8).replace("+", "%20");
    HttpTransport.Answer found = calls.get(PATH + "?pageSize=" + PAGE_SIZE + "&q=" + q);
    if (found.status() != 200) {
      return GenesysOutcomes.of(found, clock.instant());
    }
    List<JsonNode> same = new ArrayList<>();
    for (JsonNode contact : GenesysOutcomes.parse(found.body()).path("entities")) {
      if (keysOf(contact).stream().anyMatch(keys::contains)) {
        same.add(contact);
      }
    }
    if (same.size() > 1) {
      return GenesysOutcomes.refused(same.size() + " contacts have this " + matchOn);
    }
    if (same.isEmpty()) {
      try {
        return Callbacks.afterCreate(
            GenesysOutcomes.of(calls.call("POST", PATH, body), clock.instant()));
      } catch (NoAnswer e) {
        if (e.timedOut() && e.result() instanceof RetryLater r) {
          throw new NoAnswer(r.withNotBefore(Callbacks.INDEX_LAG), true);
        }
        throw e;
      }
    }
    ObjectNode merged = ((ObjectNode) same.get(0)).deepCopy();
    merged.setAll(body);
    String id = GenesysDestination.text(same.get(0).get("id"));
    String path;
    try {
      path = CONTACT.render(Map.of("id", id == null ? "" : id), Map.of());
    } catch (ExpressionException e) {
      return GenesysOutcomes.refused("the contact found has no id");
    }
    merged.put("id", id);
    return GenesysOutcomes.of(calls.call("PUT", path, merged), clock.instant());
  }

  /** The contact's values of the {@code match_on} field, normalised for comparing. */
  List<String> keysOf(JsonNode contact) {
    List<String> keys = new ArrayList<>();
    switch (matchOn) {
      case "phone" -> {
        for (String field : PHONES) {
          JsonNode phone = contact.path(field);
          for (String part : List.of("e164Number", "display", "userInput")) {
            String value = GenesysDestination.text(phone.get(part));
            String digits = value == null ? "" : value.replaceAll("[^0-9]", "");
            if (!digits.isEmpty()) {
              keys.add(digits);
              break;
            }
          }
        }
      }
      case "email" -> {
        for (String field : EMAILS) {
          String value = GenesysDestination.text(contact.get(field));
          if (value != null) {
            keys.add(value.strip().toLowerCase(Locale.ROOT));
          }
        }
      }
      default -> {
        String value = GenesysDestination.text(contact.get("externalSystemUrl"));
        if (value != null) {
          keys.add(value.strip());
        }
      }
    }
    return keys;
  }
}
