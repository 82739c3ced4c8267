// Runs a Flink SQL script in a local mini-cluster: the statements are separated by lines holding
// only ";"; ${name} placeholders are filled from -Dpeer.name=value system properties. The
// INSERT statements run as one job (a statement set), so the source is read once for all marts.
// Returns when the bounded job has finished, i.e. when the topic is consumed to its end offsets.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;

public final class FlinkPeer {
  private FlinkPeer() {}

  public static void main(String[] args) throws Exception {
    String script = Files.readString(Path.of(args[0]));
    Matcher m = Pattern.compile("\\$\\{([a-z_]+)}").matcher(script);
    StringBuilder filled = new StringBuilder();
    while (m.find()) {
      String value = System.getProperty("peer." + m.group(1));
      if (value == null) throw new IllegalArgumentException("missing -Dpeer." + m.group(1));
      m.appendReplacement(filled, Matcher.quoteReplacement(value));
    }
    m.appendTail(filled);
    Configuration conf = new Configuration();
    conf.setString("parallelism.default", System.getProperty("peer.parallelism", "2"));
    conf.setString("table.local-time-zone", "UTC");
    TableEnvironment env = TableEnvironment.create(EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build());
    StatementSet inserts = env.createStatementSet();
    List<String> statements = new ArrayList<>();
    // Whole-line comments go first, so that a commented INSERT still joins the statement set.
    String code = filled.toString().replaceAll("(?m)^\\s*--.*$", "");
    for (String s : code.split("(?m)^;\\s*$")) if (!s.isBlank()) statements.add(s.trim());
    for (String s : statements) {
      if (s.regionMatches(true, 0, "INSERT", 0, 6)) inserts.addInsertSql(s);
      else env.executeSql(s);
    }
    long started = System.nanoTime();
    inserts.execute().await();
    System.out.printf("flink job finished in %.1f s%n", (System.nanoTime() - started) / 1e9);
  }
}
