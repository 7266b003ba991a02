package dev.switchboard.testing;

import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, broker and controller in one process) inside the test's
 * JVM: no Docker, no ZooKeeper. It listens on 127.0.0.1 on ports chosen when it is created, keeps
 * its log in a temp folder, and can be stopped and started again on the same ports and log, so a
 * test can play a broker that goes away and comes back.
 *
 * <p>{@link #start} waits until the broker answers an admin request, bounded by {@link
 * #STARTUP_LIMIT}. Every method is meant for one test thread.
 */
public final class KafkaBroker implements AutoCloseable {
  public static final Duration STARTUP_LIMIT = Duration.ofSeconds(60);
  private static final int NODE_ID = 1;

  static {
    // The broker logs hundreds of INFO lines per start; its warnings are enough in test output.
    for (String name : List.of("kafka", "org.apache.kafka", "state.change.logger")) {
      ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(name)).setLevel(Level.WARN);
    }
  }

  private final Path logDir;
  private final int port;
  private final Map<String, Object> config;
  private KafkaRaftServer server;

  private KafkaBroker(Path logDir, int port, int controllerPort, Map<String, String> overrides) {
    this.logDir = logDir;
    this.port = port;
    Map<String, Object> props = new HashMap<>();
    props.put("process.roles", "broker,controller");
    props.put("node.id", Integer.toString(NODE_ID));
    props.put(
        "listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    props.put("controller.listener.names", "CONTROLLER");
    props.put("inter.broker.listener.name", "PLAINTEXT");
    props.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
    props.put("log.dirs", logDir.toString());
    props.put("num.partitions", "1");
    props.put("auto.create.topics.enable", "false");
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "1");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("log.cleaner.dedupe.buffer.size", "2097152");
    props.put("server.max.startup.time.ms", Long.toString(STARTUP_LIMIT.toMillis()));
    props.putAll(overrides);
    this.config = props;
  }

  /** Formats a fresh log folder under {@code dir} and starts the broker on it. */
  public static KafkaBroker start(Path dir) throws Exception {
    KafkaBroker broker = create(dir, Map.of());
    broker.start();
    return broker;
  }

  /**
   * Formats a fresh log folder and picks the ports, without starting: {@link #bootstrapServers()}
   * then names a closed port until {@link #start()}.
   *
   * @param overrides broker settings that replace the defaults above
   */
  public static KafkaBroker create(Path dir, Map<String, String> overrides) throws Exception {
    Path logDir = Files.createDirectories(dir.resolve("kafka-" + UUID.randomUUID()));
    KafkaBroker broker = new KafkaBroker(logDir, freePort(), freePort(), overrides);
    new Formatter()
        .setNodeId(NODE_ID)
        .setClusterId(org.apache.kafka.common.Uuid.randomUuid().toString())
        .addDirectory(logDir.toString())
        .setMetadataLogDirectory(logDir.toString())
        .setControllerListenerName("CONTROLLER")
        .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
        .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
        .run();
    return broker;
  }

  /** Starts (or starts again) on the same ports and log; returns once it serves requests. */
  public void start() throws Exception {
    if (server != null) {
      throw new IllegalStateException("already running");
    }
    server = new KafkaRaftServer(new KafkaConfig(config, false), Time.SYSTEM);
    server.startup();
    try (Admin admin = admin()) {
      await("the Kafka broker serves requests")
          .atMost(STARTUP_LIMIT)
          .pollInterval(Duration.ofMillis(100))
          .ignoreExceptions()
          .until(() -> !admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty());
    }
  }

  /** Shuts the broker down and waits until its ports are closed. */
  public void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }

  /** {@code 127.0.0.1:port}, whether or not the broker runs. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** Creates a topic with one partition. */
  public void createTopic(String name, Map<String, String> topicConfig) throws Exception {
    try (Admin admin = admin()) {
      admin
          .createTopics(List.of(new NewTopic(name, 1, (short) 1).configs(topicConfig)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Reads a topic from its beginning until {@code count} records arrived or {@code within} passed.
   */
  public List<ConsumerRecord<String, byte[]>> read(String topic, int count, Duration within) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long deadline = System.nanoTime() + within.toNanos();
      while (records.size() < count && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }

  /** The value of a record's header as UTF-8 text, or null. */
  public static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  public Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000));
  }

  public Path logDir() {
    return logDir;
  }

  @Override
  public void close() {
    stop();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
