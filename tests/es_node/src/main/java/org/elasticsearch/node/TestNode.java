package org.elasticsearch.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.MockPluginsService;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/**
 * A single Elasticsearch node for the test suite, built from the server and netty4 jars on Maven Central.
 *
 * It sits in Node's package for one reason: the package-private {@code Node(NodeConstruction)} is the seam
 * that loads plugins from the classpath (as the test framework's MockNode does) without MockNode's
 * randomized-testing bootstrap, which refuses to run as root and is not needed here.
 *
 * Usage: {@code java -cp ... org.elasticsearch.node.TestNode HTTP_PORT TRANSPORT_PORT WORK_DIR}. The node listens on
 * 127.0.0.1 only and keeps its home and data under WORK_DIR, which it deletes on exit. It stops when its
 * standard input closes (the parent that started it died or let go) or on SIGTERM, so it never outlives
 * whatever started it. What a production node has and this one lacks: x-pack (security, the wildcard field
 * type), analysis-common, painless, reindex and the GET / handler of rest-root.
 */
public final class TestNode {

    private TestNode() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: TestNode HTTP_PORT TRANSPORT_PORT WORK_DIR");
            System.exit(2);
        }
        int httpPort = Integer.parseInt(args[0]);
        int transportPort = Integer.parseInt(args[1]);
        Path work = Path.of(args[2]).toAbsolutePath();
        Path home = Files.createDirectories(work.resolve("home"));
        Path data = Files.createDirectories(work.resolve("data"));

        Settings settings = Settings.builder()
            .put("cluster.name", "fazhi-test")
            .put("node.name", "fazhi-test-node")
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            .put("http.type", Netty4Plugin.NETTY_HTTP_TRANSPORT_NAME)
            .put("transport.type", Netty4Plugin.NETTY_TRANSPORT_NAME)
            .put("discovery.type", "single-node")
            // A test machine's disk may be fuller than a server's: never turn indices read-only for it.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.destructive_requires_name", false)
            .build();
        LogConfigurator.configureWithoutConfig(settings);

        CountDownLatch stop = new CountDownLatch(1);
        long started = System.nanoTime();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Map.of(), null, () -> "fazhi-test-node"
        );
        NodeServiceProvider classpathPlugins = new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment env, PluginsLoader loader) {
                return new MockPluginsService(env.settings(), env, List.of(Netty4Plugin.class));
            }
        };
        Node node = new Node(NodeConstruction.prepareConstruction(environment, null, classpathPlugins, true));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            close(node, work);
        }, "test-node-shutdown"));
        node.start();
        System.out.printf(
            "test node ready on http://127.0.0.1:%d in %.1f s%n", httpPort, (System.nanoTime() - started) / 1e9
        );
        System.out.flush();

        Thread stdinWatch = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // drain: only the end of the stream matters
                }
            } catch (IOException ignored) {
                // a broken pipe means the parent is gone as well
            }
            stop.countDown();
        }, "test-node-stdin");
        stdinWatch.setDaemon(true);
        stdinWatch.start();
        stop.await();
        System.exit(0); // runs the shutdown hook, which closes the node and removes WORK_DIR
    }

    private static synchronized void close(Node node, Path work) {
        try {
            node.close();
            node.awaitClose(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("closing the test node: " + e);
        }
        try (Stream<Path> paths = Files.walk(work)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("removing " + work + ": " + e);
        }
    }
}
