"""The docs stay true: the CLI reference matches the commands, README links resolve, CI runs the README's command."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'gen_cli_reference.py'), '--check'],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_cli_reference_usage_lines_are_what_the_commands_print():
    """Each section's `Usage:` line is the one `lip-toolkit ... --help` prints (it once read `lip-toolkit
    lip-toolkit evaluate`)."""
    from click.testing import CliRunner

    from lip_toolkit.cli import cli
    reference = (ROOT / 'docs' / 'cli.md').read_text()
    sections = re.findall(r'^## `lip-toolkit([^`]*)`\n\n```text\n(Usage: [^\n]*)', reference, re.M)
    assert len(sections) > 10
    for words, usage in sections:
        printed = CliRunner().invoke(cli, words.split() + ['--help'], prog_name='lip-toolkit').output
        assert printed.splitlines()[0] == usage, (words, usage)


def test_readme_links_resolve():
    text = (ROOT / 'README.md').read_text()
    links = re.findall(r'\]\(([^)#]+\.md)\)', text)
    assert links
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert not missing, f'README links to missing pages: {missing}'


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / 'README.md').read_text()
    assert re.search(r'^make test\b', readme, re.M)
    ci = (ROOT / '.ci' / 'run').read_text()
    assert 'exec make test' in ci
    makefile = (ROOT / 'Makefile').read_text()
    assert re.search(r'^test: install\n\t.*pytest', makefile, re.M)
    assert re.search(r'^demo: install\n\t.*lip-toolkit demo', makefile, re.M)
