package quanzi.neo4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * A throwaway Neo4j Community server for Quanzi's tests.
 *
 * <p>Runs an embedded {@link DatabaseManagementService} with only the Bolt
 * connector enabled, on a loopback address, with authentication disabled and
 * a small page cache. All state lives under the home directory given on the
 * command line. SIGTERM (or SIGINT) shuts the databases down cleanly through
 * a JVM shutdown hook.
 *
 * <p>Usage: {@code TestServer <home-dir> [port] [host]} (defaults: 7687,
 * 127.0.0.1). Prints {@code QUANZI_NEO4J_READY bolt://host:port} once Bolt
 * accepts queries.
 */
public final class TestServer {
    public static final String READY_MARKER = "QUANZI_NEO4J_READY";

    private TestServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 3) {
            System.err.println("usage: TestServer <home-dir> [port] [host]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 7687;
        String host = args.length > 2 ? args[2] : "127.0.0.1";
        long pageCacheMiB = Long.getLong("quanzi.neo4j.pagecacheMiB", 64L);
        Files.createDirectories(home);

        long started = System.nanoTime();
        DatabaseManagementService service = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMiB))
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                // No usage reports: the test machines have no network anyway.
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Neither the in-JVM "bolt-local" connector, nor the two 5 s
                // graceful waits that otherwise make every stop take ~10 s.
                .setConfig(BoltConnectorInternalSettings.enable_local_connector, false)
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ZERO)
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ZERO)
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("Quanzi Neo4j test server: shutting down");
            try {
                service.shutdown();
            } catch (RuntimeException e) {
                System.err.println("Quanzi Neo4j test server: shutdown failed: " + e);
            } finally {
                System.out.println("Quanzi Neo4j test server: stopped");
                System.out.flush();
                stopped.countDown();
            }
        }, "quanzi-neo4j-shutdown"));

        // Touch the default database so "ready" means queries will succeed.
        String version = service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME)
                .executeTransactionally(
                        "CALL dbms.components() YIELD name, versions, edition "
                                + "RETURN name + ' ' + versions[0] + ' ' + edition AS v",
                        Map.of(),
                        result -> (String) result.next().get("v"));
        service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME)
                .executeTransactionally("RETURN 1");

        long millis = (System.nanoTime() - started) / 1_000_000L;
        System.out.println("Quanzi Neo4j test server: " + version + " started in " + millis
                + " ms, home " + home);
        System.out.println(READY_MARKER + " bolt://" + host + ":" + port);
        System.out.flush();

        // Keep the JVM alive until a signal runs the shutdown hook.
        stopped.await();
    }
}
