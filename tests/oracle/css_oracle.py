#!/usr/bin/env python3
"""An independent oracle for the stylesheets cachekiller serves.

For every stylesheet below STATIC_DIR, tokenizes the original and the bytes the service sent
(SERVED_DIR, same relative paths) with tinycss2 (a second CSS tokenizer, written by others),
and checks that the two token trees are identical except for the references: each `url(...)`
(quoted or not, any case) and each string right after `@import`, whose served value must be
the original's with the tag a browser would need, computed here: the revision, or the SHA-1
(hashlib) of the referenced file, and for a stylesheet the SHA-1 of its served bytes.

References also include root-relative URLs under the static prefix (`/static/img/a.png` with
the default STATIC_URL `/static/`), which keep the prefix as written, and the URL of a
`/*# sourceMappingURL=... */` comment (Django's rule: the whole comment is that line), tagged
only when its file exists. An empty query (`font.eot?#iefix`) is kept in the file-name form.

Prints a JSON object {stylesheet: content tag of its served bytes} on success; exits 1 with
the differences otherwise.

Usage: css_oracle.py STATIC_DIR SERVED_DIR TAG_IN PARAM MODE REVISION HASH_LENGTH [STATIC_URL]
"""

import hashlib
import json
import os
import re
import sys
import urllib.parse

try:
    import tinycss2
except ImportError:
    sys.exit(
        f"css_oracle.py: {sys.executable} has no tinycss2: run tests/run, which installs it "
        "into target/test-tools/venv and runs the tests with that Python"
    )

SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# The body of a source map comment, as Django's ManifestStaticFilesStorage matches it.
SOURCE_MAP = re.compile(r"^[#@][ \t]+sourceMappingURL=(\S+)\s*$")


def stylesheets(static_dir):
    for directory, _, names in os.walk(static_dir):
        for name in names:
            if name.lower().endswith(".css"):
                path = os.path.join(directory, name)
                yield os.path.relpath(path, static_dir).replace(os.sep, "/")


class Oracle:
    def __init__(self, static_dir, served_dir, tag_in, param, mode, revision, hash_length, static_url="/static/"):
        self.static_url = static_url if static_url.endswith("/") else static_url + "/"
        self.static_dir = static_dir
        self.served_dir = served_dir
        self.tag_in = tag_in
        self.param = param
        self.mode = mode
        self.revision = revision
        self.hash_length = hash_length
        self.errors = []

    def served(self, stylesheet):
        with open(os.path.join(self.served_dir, stylesheet), "rb") as file:
            return file.read()

    def tag_of(self, static_path):
        if self.mode == "vcs":
            return self.revision
        if static_path.lower().endswith(".css"):
            data = self.served(static_path)
        else:
            with open(os.path.join(self.static_dir, static_path), "rb") as file:
                data = file.read()
        return hashlib.sha1(data).hexdigest()[: self.hash_length]

    def expected(self, stylesheet, url):
        """The URL as it must be served."""
        rooted = self.static_url.startswith("/") and url.startswith(self.static_url) and not url.startswith("//")
        if not url or url.startswith("#") or (url.startswith("/") and not rooted) or SCHEME.match(url):
            return url
        location, fragment = (url.split("#", 1) + [None])[:2] if "#" in url else (url, None)
        location, query = location.split("?", 1) if "?" in location else (location, None)
        if not location:
            return url
        relative = location[len(self.static_url):] if rooted else location
        decoded = urllib.parse.unquote(relative, errors="strict")
        base = "" if rooted else posix_dirname(stylesheet)
        parts = [part for part in base.split("/") if part]
        for part in decoded.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    return url
                parts.pop()
            else:
                parts.append(part)
        static_path = "/".join(parts)
        if not os.path.isfile(os.path.join(self.static_dir, static_path)):
            return url
        tag = self.tag_of(static_path)
        written_query = query
        query = (query or "").rstrip("&")
        if self.tag_in == "name":
            slash = location.rfind("/") + 1
            name = location[slash:]
            dot = name.rfind(".")
            if dot > 0:
                location = f"{location[:slash]}{name[:dot]}.{tag}{name[dot:]}"
            else:
                location = f"{location}.{tag}"
            # Django keeps an empty query (`font.eot?#iefix`), and so must we.
            tagged = location + (f"?{query}" if written_query is not None else "")
        else:
            pair = f"{self.param}={tag}" if self.param else tag
            tagged = f"{location}?{query}&{pair}" if query else f"{location}?{pair}"
        return tagged + (f"#{fragment}" if fragment is not None else "")

    def compare(self, stylesheet, original, served, where="top level"):
        """Compares two component value lists, references excepted."""
        original = list(original)
        served = list(served)
        if len(original) != len(served):
            self.errors.append(
                f"{stylesheet}: {where}: {len(original)} tokens, served {len(served)}:\n"
                f"  {tinycss2.serialize(original)!r}\n  {tinycss2.serialize(served)!r}"
            )
            return
        after_import = False
        for mine, theirs in zip(original, served):
            kind = type(mine).__name__
            if kind != type(theirs).__name__:
                self.errors.append(f"{stylesheet}: {where}: {kind} served as {type(theirs).__name__}")
                continue
            if kind == "Comment" and SOURCE_MAP.match(mine.value):
                url = SOURCE_MAP.match(mine.value).group(1)
                expected = mine.value.replace(url, self.expected(stylesheet, url), 1)
                if theirs.value != expected:
                    self.errors.append(f"{stylesheet}: source map comment {mine.value!r} served as {theirs.value!r}, expected {expected!r}")
                self.references += 1
                continue
            if kind in ("WhitespaceToken", "Comment"):
                if mine.value != theirs.value:
                    self.errors.append(f"{stylesheet}: {kind} {mine.value!r} served as {theirs.value!r}")
                continue
            import_target = after_import
            after_import = kind == "AtKeywordToken" and mine.lower_value == "import"
            if kind == "URLToken" or (kind == "StringToken" and import_target):
                self.check_reference(stylesheet, mine.value, theirs.value)
            elif kind == "FunctionBlock":
                if mine.name != theirs.name:
                    self.errors.append(f"{stylesheet}: function {mine.name} served as {theirs.name}")
                arguments = [token for token in mine.arguments if token.type not in ("whitespace", "comment")]
                served_arguments = [token for token in theirs.arguments if token.type not in ("whitespace", "comment")]
                if mine.lower_name == "url" and arguments and arguments[0].type == "string":
                    self.check_reference(stylesheet, arguments[0].value, served_arguments[0].value)
                    rest = [token for token in mine.arguments if token is not arguments[0]]
                    served_rest = [token for token in theirs.arguments if token is not served_arguments[0]]
                    self.compare(stylesheet, rest, served_rest, f"in {mine.name}()")
                else:
                    self.compare(stylesheet, mine.arguments, theirs.arguments, f"in {mine.name}()")
            elif hasattr(mine, "content") and mine.content is not None and kind.endswith("Block"):
                self.compare(stylesheet, mine.content, theirs.content, f"in {kind}")
            elif mine.serialize() != theirs.serialize():
                self.errors.append(
                    f"{stylesheet}: {where}: {mine.serialize()!r} served as {theirs.serialize()!r}"
                )

    def check_reference(self, stylesheet, original, served):
        expected = self.expected(stylesheet, original)
        if served != expected:
            self.errors.append(f"{stylesheet}: url {original!r} served as {served!r}, expected {expected!r}")
        self.references += 1

    def run(self):
        tags = {}
        self.references = 0
        for stylesheet in sorted(stylesheets(self.static_dir)):
            with open(os.path.join(self.static_dir, stylesheet), "rb") as file:
                original = file.read().decode("utf-8")
            served = self.served(stylesheet).decode("utf-8")
            self.compare(
                stylesheet,
                tinycss2.parse_component_value_list(original, skip_comments=False),
                tinycss2.parse_component_value_list(served, skip_comments=False),
            )
            tags[stylesheet] = hashlib.sha1(served.encode("utf-8")).hexdigest()[: self.hash_length]
        if self.references == 0:
            self.errors.append("no reference was checked")
        return tags


def posix_dirname(path):
    return path.rsplit("/", 1)[0] if "/" in path else ""


def main():
    static_dir, served_dir, tag_in, param, mode, revision, hash_length = sys.argv[1:8]
    static_url = sys.argv[8] if len(sys.argv) > 8 else "/static/"
    oracle = Oracle(static_dir, served_dir, tag_in, param, mode, revision, int(hash_length), static_url)
    tags = oracle.run()
    if oracle.errors:
        print("\n".join(oracle.errors), file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"tags": tags, "references": oracle.references}))


if __name__ == "__main__":
    main()
