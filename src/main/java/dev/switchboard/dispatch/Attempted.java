package dev.switchboard.dispatch;

import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.store.Finish;

/** What an attempt came to: the outcome to write, and the answer if a request was made. */
record Attempted(Finish finish, DeliveryResult result) {}
