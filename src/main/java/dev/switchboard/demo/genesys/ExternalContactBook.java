package dev.switchboard.demo.genesys;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fake's external contacts: {@code GET /api/v2/externalcontacts/contacts?q=} (a {@code
 * ContactListing}), {@code POST} (create), {@code GET} and {@code PUT} (replace) of {@code
 * /api/v2/externalcontacts/contacts/{id}}, in the shapes of the platform-client-sdk-java's {@code
 * ExternalContact} and {@code ContactListing}. Guessed, as nothing public says: 200 for the create,
 * and how {@code q} matches (a substring of names and e-mails, or of a phone's digits).
 */
final class ExternalContactBook {
  private final Map<String, Map<String, Object>> contacts = new ConcurrentHashMap<>();
  private final SlowWrites slow;

  ExternalContactBook(SlowWrites slow) {
    this.slow = slow;
  }

  void register(RoutesConfig routes) {
    routes.get("/api/v2/externalcontacts/contacts", this::searchContacts);
    routes.post("/api/v2/externalcontacts/contacts", this::createContact);
    routes.get("/api/v2/externalcontacts/contacts/{id}", this::contact);
    routes.put("/api/v2/externalcontacts/contacts/{id}", this::replaceContact);
  }

  List<Map<String, Object>> contacts() {
    return List.copyOf(contacts.values());
  }

  /** Stores a contact as if created earlier; returns its id. */
  String addContact(Map<String, Object> contact) {
    Map<String, Object> stored = new LinkedHashMap<>(contact);
    String id = UUID.randomUUID().toString();
    stored.put("id", id);
    stored.put("selfUri", "/api/v2/externalcontacts/contacts/" + id);
    contacts.put(id, stored);
    return id;
  }

  private void searchContacts(Context ctx) {
    String q = ctx.queryParam("q") == null ? "" : ctx.queryParam("q").toLowerCase(Locale.ROOT);
    String digits = q.replaceAll("[^0-9]", "");
    List<Map<String, Object>> hits =
        contacts.values().stream()
            .filter(
                c ->
                    q.isEmpty()
                        || searchable(c).contains(q)
                        || !digits.isEmpty() && searchable(c).contains(digits))
            .toList();
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("entities", hits);
    answer.put("pageSize", 25);
    answer.put("pageNumber", 1);
    answer.put("total", hits.size());
    answer.put("pageCount", hits.isEmpty() ? 0 : 1);
    WriteBack.json(ctx, 200, answer);
  }

  private void createContact(Context ctx) {
    Map<String, Object> body = WriteBack.object(ctx);
    String[] id = new String[1];
    slow.write(() -> id[0] = addContact(body));
    WriteBack.json(ctx, 200, contacts.get(id[0]));
  }

  private void contact(Context ctx) {
    Map<String, Object> contact = contacts.get(ctx.pathParam("id"));
    if (contact == null) {
      throw WriteBack.notFound("external contact");
    }
    WriteBack.json(ctx, 200, contact);
  }

  private void replaceContact(Context ctx) {
    String id = ctx.pathParam("id");
    if (!contacts.containsKey(id)) {
      throw WriteBack.notFound("external contact");
    }
    Map<String, Object> body = new LinkedHashMap<>(WriteBack.object(ctx));
    body.put("id", id);
    body.put("selfUri", "/api/v2/externalcontacts/contacts/" + id);
    slow.write(() -> contacts.put(id, body));
    WriteBack.json(ctx, 200, body);
  }

  private static String searchable(Map<String, Object> contact) {
    StringBuilder text = new StringBuilder();
    contact.forEach(
        (k, v) -> {
          if (v instanceof String s) {
            text.append(s.toLowerCase(Locale.ROOT)).append('\n');
          } else if (v instanceof Map<?, ?> phone) {
            for (Object part : phone.values()) {
              text.append(String.valueOf(part).replaceAll("[^0-9]", "")).append('\n');
            }
          }
        });
    return text.toString();
  }
}
