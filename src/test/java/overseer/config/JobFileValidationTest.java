package overseer.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.job.Action;
import overseer.job.Frequency;
import overseer.job.JobDefinition;
import overseer.job.JobName;
import overseer.job.JobParser;
import overseer.job.Overlap;
import overseer.job.Problem;
import overseer.job.VarType;
import overseer.template.Renderer;

class JobFileValidationTest {
    @TempDir
    Path dir;

    private final RepositoryLoader loader = new RepositoryLoader(new JobParser(new Renderer(new ObjectMapper())));

    private Path write(String path, String content) throws IOException {
        Path file = dir.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    private RepositoryLoader.Loaded load() throws IOException {
        return loader.load(FileTree.of(dir), "");
    }

    private List<String> problems() throws IOException {
        return load().problems().stream().map(Problem::toString).toList();
    }

    private JobDefinition job(String name) throws IOException {
        RepositoryLoader.Loaded loaded = load();
        assertThat(loaded.problems()).isEmpty();
        return loaded.jobs().get(new JobName(name));
    }

    @Test
    void aColonInAPlainCommandHintsAtABlockAndASevenFieldCronAtTheQuestionMark() throws IOException {
        write("colon.yml", "command: echo \"error: x\"\n");
        write("quartz.yml", "command: echo hi\nschedule:\n  - frequency: \"0 0 12 * * * 2027\"\n");
        assertThat(problems())
                .anySatisfy(p -> assertThat(p)
                        .startsWith("colon.yml:1:")
                        .contains("mapping values are not allowed here")
                        .contains("'command: |'"))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("quartz.yml:3:")
                        .contains("needs '?'")
                        .contains("'0 0 12 ? * * 2027'"));
    }

    @Test
    void hugeNumbersAreRefusedQuicklyAndProblemsQuoteOnlyTheStartOfAValue() throws IOException {
        String digits = "9".repeat(900_000);
        write("yaml.yml", "command: echo\ntimeout: " + digits + "\n");
        write("json.json", "{\"command\": \"echo\", \"timeout\": " + digits + "}");
        write("big.yml", "command: echo\nconcurrency: 99999999999\ntimeout: " + "9".repeat(90) + "\n");
        write("name.yml", "command: echo\noverlap: " + "x".repeat(10_000) + "\n");
        // No timing assertion (it failed CI on a loaded machine at 5.3 s): the problem text says the
        // number was refused for its length, by the limit on a scalar's digits, before any parse
        // of it (a quadratic one of 900,000 digits took 15 s or more).
        List<String> problems = problems();
        assertThat(problems)
                .contains(
                        "yaml.yml:2:10: a number of 900000 characters is too long (at most 100)",
                        "json.json:1:21: a number is too long (at most 100 characters)",
                        "big.yml:2:14: 'concurrency' must be at most 2147483647",
                        "big.yml:3:10: 'timeout' must be at most 3155760000 seconds (100 years), got " + "9".repeat(60)
                                + "… (30 more characters)");
        assertThat(problems).allSatisfy(p -> assertThat(p.length()).isLessThan(1100));
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("name.yml:2:10: 'overlap' must be one of"));
    }

    @Test
    void mappingFormAndListFormDefineTheSameJob() throws IOException {
        write("a.yml", "command: echo hi\ndescription: mapping\n");
        write("b.yml", "- command: echo hi\n  description: list\n");
        RepositoryLoader.Loaded loaded = load();
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.jobs().keySet()).extracting(JobName::value).containsExactly("a", "b");
        assertThat(loaded.jobs().get(new JobName("b")).action()).isEqualTo(new Action.Command("echo hi"));
    }

    @Test
    void brokenTemplatesAreFoundWhenTheCommitIsValidated() throws IOException {
        write("a.yml", "description: x\ncommand: echo {% if name %}\nvars: [{name: name}]\n");
        write("b.yml", "command: echo {{ name | shout }}\nvars: [{name: name}]\n");
        write("c.yml", "script: run.sh {{ name | nope }}\nvars: [{name: name}]\n");
        write("scripts/run.sh", "#!/bin/sh\n");
        dir.resolve("scripts/run.sh").toFile().setExecutable(true);
        assertThat(problems())
                .containsExactly(
                        "a.yml:2:10: template line 1: Syntax error in '{% if name %}': Missing end tag: endif for tag"
                                + " defined as: {% if name %}",
                        "b.yml:1:10: template uses the unknown filter 'shout'",
                        "c.yml:1:9: template uses the unknown filter 'nope'");
    }

    @Test
    void listFormWithTwoItemsIsRejected() throws IOException {
        write("b.yml", "- command: one\n- command: two\n");
        assertThat(problems())
                .containsExactly("b.yml:1:1: a job file in list form holds exactly one mapping, found 2 item(s)");
    }

    @Test
    void jsonJobsAreReadWithPositions() throws IOException {
        write(
                "reports/nightly.json",
                "{\n  \"command\": \"make report\",\n  \"timeout\": 90,\n  \"overlap\": \"skip\"\n}\n");
        JobDefinition job = job("nightly");
        assertThat(job.file()).isEqualTo("reports/nightly.json");
        assertThat(job.timeout()).contains(Duration.ofSeconds(90));
        assertThat(job.overlap()).isEqualTo(Overlap.SKIP);

        write("reports/broken.json", "{\n  \"command\": \"x\",\n  \"comand\": 5\n}\n");
        assertThat(problems())
                .containsExactly("reports/broken.json:3:3: unknown job key 'comand'; did you mean 'command'?");
    }

    @Test
    void jsonSyntaxErrorsNameLineAndColumn() throws IOException {
        write("bad.json", "{\n  \"command\": \"x\",,\n}\n");
        assertThat(problems())
                .singleElement()
                .asString()
                .startsWith("bad.json:2:")
                .contains("JSON syntax");
    }

    @Test
    void jobsInSubDirectoriesAreFoundButBinScriptsAndHiddenAreNot() throws IOException {
        write("team/a/deep.yaml", "command: true\n");
        write("bin/helper.yml", "not: a job\n");
        write("scripts/data.json", "[1, 2]\n");
        write(".github/workflows/ci.yml", "on: push\n");
        write("overseer.yml", "defaults:\n  timeout: 60\n");
        RepositoryLoader.Loaded loaded = load();
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.jobs().keySet()).extracting(JobName::value).containsExactly("deep");
        assertThat(loaded.jobs().get(new JobName("deep")).timeout()).contains(Duration.ofSeconds(60));
    }

    @Test
    void twoFilesWithTheSameNameAreAnError() throws IOException {
        write("one/backup.yml", "command: a\n");
        write("two/backup.json", "{\"command\": \"b\"}");
        assertThat(problems())
                .containsExactly("two/backup.json:1:1: job name 'backup' is already defined by one/backup.yml");
    }

    @Test
    void fileNamesMustBeValidJobNames() throws IOException {
        write("-bad.yml", "command: a\n");
        assertThat(problems()).singleElement().asString().startsWith("-bad.yml:1:1: job name '-bad' must match");
    }

    @Test
    void aliasBombIsRejectedWithoutExpandingIt() throws IOException {
        StringBuilder yaml =
                new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char c = 'b'; c <= 'j'; c++) {
            char p = (char) (c - 1);
            yaml.append(c).append(": &").append(c).append(" [");
            for (int i = 0; i < 9; i++) {
                yaml.append(i == 0 ? "" : ",").append('*').append(p);
            }
            yaml.append("]\n");
        }
        write("bomb.yml", yaml.toString());
        // Expanded, the bomb is 9^10 strings: the parser must stop at the alias count instead. The
        // bound is a hang guard only; the answer takes milliseconds.
        List<String> problems =
                org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30), this::problems);
        assertThat(problems).singleElement().asString().startsWith("bomb.yml:").contains("too many aliases");
    }

    @Test
    void aHugeFileIsRejectedBeforeReading() throws IOException {
        // A sparse 3 GiB file: reading it whole would fail (no Java array holds it), so only a
        // check of the size before reading gives this answer.
        try (var file = new java.io.RandomAccessFile(dir.resolve("big.yml").toFile(), "rw")) {
            file.setLength(3L * 1024 * 1024 * 1024);
        }
        assertThat(problems())
                .singleElement()
                .asString()
                .startsWith("big.yml:1:1: file is 3221225472 bytes")
                .endsWith("the limit is 1048576 bytes");
    }

    @Test
    void deepNestingIsRejected() throws IOException {
        write("deep.yml", "description: " + "[".repeat(5000) + "]".repeat(5000) + "\n");
        write("deep2.json", "{\"env\": " + "[".repeat(5000) + "]".repeat(5000) + "}");
        assertThat(problems()).hasSize(2).allSatisfy(p -> assertThat(p).contains("nesting deeper than 64 levels"));
    }

    @Test
    void duplicateKeysAreAnError() throws IOException {
        write("dup.yml", "command: a\ntimeout: 5\ncommand: b\n");
        write("dup2.json", "{\"command\": \"a\", \"command\": \"b\"}");
        assertThat(problems())
                .containsExactly(
                        "dup.yml:3:1: duplicate key 'command' (first at line 1)",
                        "dup2.json:1:18: duplicate key 'command' (first at line 1)");
    }

    @Test
    void symlinkToPasswdIsRejected() throws IOException {
        Files.createSymbolicLink(dir.resolve("passwd.yml"), Path.of("/etc/passwd"));
        Files.createDirectories(dir.resolve("bin"));
        Files.createSymbolicLink(dir.resolve("bin/sh"), Path.of("../../../../bin/sh"));
        assertThat(problems())
                .containsExactly(
                        "bin/sh:1:1: symbolic link points outside the repository (-> ../../../../bin/sh)",
                        "passwd.yml:1:1: symbolic link points outside the repository (-> /etc/passwd)");
    }

    @Test
    void symlinkInsideTheRepositoryIsFine() throws IOException {
        write("real.yml", "command: true\n");
        Files.createSymbolicLink(dir.resolve("alias.yml"), Path.of("real.yml"));
        assertThat(problems()).isEmpty();
        assertThat(load().jobs()).hasSize(2);
    }

    @Test
    void everyProblemOfAFileIsReportedWithItsPosition() throws IOException {
        write("job.yml", """
                command: echo
                script: run.sh
                timeout: soon
                concurrency: 0
                overlap: replce
                vars:
                  - name: level
                    type: enum
                  - name: count
                    type: integr
                  - name: size
                    type: int
                    default: big
                schedule:
                  - frequency: "61 * * * *"
                  - frequency: "@fortnightly"
                  - time: 2026-01-01T00:00:00Z
                env:
                  1BAD: x
                hooks:
                  - url: ftp://example.com
                    secret: hunter2
                """);
        assertThat(problems())
                .containsExactly(
                        "job.yml:2:9: 'command' and 'script' cannot both be set; choose one",
                        "job.yml:3:10: 'timeout' must be a number of seconds, not a string",
                        "job.yml:4:14: 'concurrency' must be at least 1",
                        "job.yml:5:10: 'overlap' must be one of queue, skip, replace, got 'replce'; did you mean 'replace'?",
                        "job.yml:7:5: enum var 'level' needs 'values'",
                        "job.yml:10:11: unknown var type 'integr'; did you mean 'int'? (types: null, bool, int, float, binary, timestamp, pairs, omap, set, str, seq, map, enum)",
                        "job.yml:13:14: default of var 'size': expected an integer",
                        "job.yml:15:16: invalid cron expression '61 * * * *': Failed to parse cron expression. Value 61 not in range [0, 59]",
                        "job.yml:16:16: unknown cron macro '@fortnightly'",
                        "job.yml:17:5: missing required key 'frequency'",
                        "job.yml:19:3: '1BAD' is not a valid environment variable name",
                        "job.yml:21:10: hook 'url' must be an http or https URL, not 'ftp'",
                        "job.yml:22:13: 'secret' must name a server environment variable as ${NAME}; secrets never live in the repository");
    }

    @Test
    void varsTypesAndSchedulesAreParsed() throws IOException {
        write("full.yml", """
                command: run {{ level }}
                vars:
                  - name: level
                    type: enum
                    values: [low, high]
                    default: low
                  - name: verbose
                    type: bool
                    option: yes
                  - name: token
                    secret: true
                    required: true
                schedule:
                  - frequency: 3600
                    time: 2026-01-01T00:00:00Z
                    priority: 3
                    vars: {token: abc, level: high}
                  - frequency: "0 0 12 * * ?"
                    timezone: Europe/Berlin
                    catchup: all
                    vars: {token: abc}
                  - frequency: "0 30 9 * * MON-FRI"
                    vars: {token: abc}
                  - frequency: "0 0 12 ? * MON 2030"
                    vars: {token: abc}
                """);
        JobDefinition job = job("full");
        assertThat(job.vars()).extracting(v -> v.type()).containsExactly(VarType.ENUM, VarType.BOOL, VarType.STR);
        assertThat(job.vars().get(1).option()).isTrue();
        assertThat(job.vars().get(2).secret()).isTrue();
        assertThat(job.schedules()).hasSize(4);
        assertThat(job.schedules().get(0).frequency()).isEqualTo(new Frequency.Period(Duration.ofHours(1)));
        assertThat(job.schedules().get(0).priority()).isEqualTo(3);
        assertThat(job.schedules().get(1).frequency()).isInstanceOf(Frequency.CronExpression.class);
    }

    @Test
    void scheduleVarsAreCheckedAgainstDeclaredVars() throws IOException {
        write("s.yml", """
                command: x
                vars:
                  - name: count
                    type: int
                    required: true
                schedule:
                  - frequency: 60
                    vars: {cuont: 5}
                  - frequency: 60
                    vars: {count: many}
                """);
        assertThat(problems())
                .containsExactly(
                        "s.yml:7:5: schedule does not give required var 'count'",
                        "s.yml:8:12: schedule sets undeclared var 'cuont'; did you mean 'count'?",
                        "s.yml:10:19: var 'count': expected an integer");
    }

    @Test
    void scriptMustExistUnderScriptsAndBeExecutable() throws IOException {
        write("a.yml", "script: missing.sh\n");
        write("b.yml", "script: ../etc/passwd\n");
        write("c.yml", "script: plain.sh\n");
        write("scripts/plain.sh", "echo\n");
        write("d.yml", "script: \"ok.sh --fast {{ target }}\"\n");
        write("scripts/ok.sh", "#!/bin/sh\necho\n");
        Files.setPosixFilePermissions(dir.resolve("scripts/ok.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        RepositoryLoader.Loaded loaded = load();
        assertThat(loaded.problems())
                .extracting(Problem::toString)
                .containsExactly(
                        "a.yml:1:9: script 'scripts/missing.sh' does not exist",
                        "b.yml:1:9: 'script' must be a path inside scripts/, got '../etc/passwd'",
                        "c.yml:1:9: script 'scripts/plain.sh' is not executable (chmod +x, and commit the mode)");
        assertThat(loader.load(FileTree.of(dir), "")
                        .jobs()
                        .get(new JobName("d"))
                        .action())
                .isEqualTo(new Action.Script("ok.sh", List.of("--fast", "{{ target }}")));
    }

    @Test
    void emptyJobIsValidAndOverseerYmlIsNotAJob() throws IOException {
        write("noop.yml", "description: nothing to run\n");
        write(
                "overseer.yml",
                "hooks:\n  - url: https://example.com/h\n    events: [fail]\n    secret: ${HOOK_SECRET}\n");
        RepositoryLoader.Loaded loaded = load();
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.jobs().keySet()).extracting(JobName::value).containsExactly("noop");
        assertThat(loaded.jobs().get(new JobName("noop")).action()).isEqualTo(new Action.Nothing());
        assertThat(loaded.settings().hooks())
                .singleElement()
                .satisfies(h -> assertThat(h.secretVariable()).contains("HOOK_SECRET"));
    }

    @Test
    void yamlSyntaxErrorsNameLineAndColumn() throws IOException {
        write("bad.yml", "command: echo\n  description: [unclosed\n");
        assertThat(problems())
                .singleElement()
                .asString()
                .startsWith("bad.yml:2:")
                .contains("YAML syntax");
    }

    @Test
    void retryIsValidatedWithPositions() throws IOException {
        write("ok.yml", "command: x\nretry: {times: 2}\n");
        write("bad.yml", "command: x\nretry:\n  times: 0\n  backoff: 0.5\n  on: [fail, lost]\n  tries: 3\n");
        write("list.yml", "command: x\nretry: [1]\n");
        assertThat(problems())
                .containsExactly(
                        "bad.yml:3:10: 'times' must be from 1 to 1000, got 0",
                        "bad.yml:4:12: 'backoff' must be a number from 1 to 100",
                        "bad.yml:5:14: 'on' takes fail and time-out, got 'lost'",
                        "bad.yml:6:3: unknown retry key 'tries'; did you mean 'times'?",
                        "list.yml:2:8: 'retry' must be a mapping with 'times' (and 'delay', 'backoff', 'on'), not a list");
    }

    @Test
    void periodsAreAtLeastASecondAndDurationsHaveAClearRange() throws IOException {
        write("tiny.yml", "command: x\nschedule:\n  - {frequency: 0.000000001}\n  - {frequency: \"0.5\"}\n");
        write("huge.yml", "command: x\ntimeout: 1e308\n");
        write("ok.yml", "command: x\ntimeout: 0.5\nschedule:\n  - {frequency: 1}\n");
        assertThat(problems())
                .containsExactly(
                        "huge.yml:2:10: 'timeout' must be at most 3155760000 seconds (100 years), got 1.0E308",
                        "tiny.yml:3:17: a 'frequency' period must be at least 1 second",
                        "tiny.yml:4:17: a 'frequency' period must be at least 1 second");
    }

    @Test
    void aHookCannotSignWithTheServersOwnCredentials() throws IOException {
        write(
                "signed.yml",
                "command: x\nhooks:\n  - url: https://example.com/h\n    secret: ${OVERSEER_STORE_PASSWORD}\n");
        assertThat(problems())
                .containsExactly("signed.yml:4:13: 'secret' cannot be OVERSEER_STORE_PASSWORD: that is the server's own"
                        + " credential, not a webhook secret");
    }

    @Test
    void aJobCannotReadOverseersOwnVariables() throws IOException {
        write("leak.yml", "command: env\nenv:\n  T: ${OVERSEER_GIT_TOKEN}\n  OK: ${HOME}\n");
        assertThat(problems())
                .containsExactly("leak.yml:3:6: env 'T' cannot read OVERSEER_GIT_TOKEN: Overseer's own settings and"
                        + " secrets are not for jobs");
    }

    @Test
    void aCronExpressionCronUtilsChokesOnIsAProblemNotACrash() throws IOException {
        // Found by FuzzTest (seed 1): cron-utils threw ArrayIndexOutOfBoundsException.
        write("odd.yml", "command: x\nschedule:\n  - {frequency: \"0 * * * |\"}\n");
        assertThat(problems())
                .singleElement()
                .asString()
                .startsWith("odd.yml:3:17: invalid cron expression '0 * * * |'");
    }

    @Test
    void aServersDataDirectoryInsideTheTreeIsLeftOut() throws IOException {
        // overseer run / validate from a directory that holds ./overseer-data: its files are no jobs.
        write("hello.yml", "command: echo hello\n");
        write("overseer-data/" + DataMarker.FILE, "");
        write("overseer-data/executions/notes.yml", "not: a job\n");
        overseer.process.Fifos.create(
                Files.createDirectories(dir.resolve("overseer-data/run")).resolve("events"));
        RepositoryLoader.Loaded loaded = load();
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.jobs().keySet()).extracting(n -> n.toString()).containsExactly("hello");
    }

    @Test
    void aTemplateLoopOfABillionStepsIsAProblemFoundQuickly() throws IOException {
        write(
                "loop.yml",
                "command: echo {% for a in range(1000) %}{% for b in range(1000) %}"
                        + "{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}\n");
        // No timing assertion: the problem names the step limit, which is what ends it (a billion
        // steps would run for minutes).
        List<String> problems = problems();
        assertThat(problems)
                .singleElement()
                .asString()
                .startsWith("loop.yml:1:10: ")
                .contains("steps");
    }

    @Test
    void appendFalseAndAppendVarsFalseAreRead() throws IOException {
        write("a.yml", "command: x\nvars:\n  - {name: one, append: false}\n  - {name: two}\n");
        write("b.yml", "command: x\nappend_vars: false\nvars:\n  - {name: one}\n");
        assertThat(job("a").vars()).extracting(v -> v.append()).containsExactly(false, true);
        assertThat(job("b").vars()).extracting(v -> v.append()).containsExactly(false);
    }
}
