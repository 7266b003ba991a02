package dev.switchboard.pull;

import dev.switchboard.ingest.IngestResponse;
import java.util.Map;

/** Where a pulled source hands each message: the gateway's durable ingest for that source. */
@FunctionalInterface
public interface PulledIngest {
  /** Stores the message as an event; a 2xx answer means committed. */
  IngestResponse ingest(byte[] json, Map<String, String> headers);
}
