"""A repository of cc_library targets for Debian's system libraries, from pkg-config.

Each entry maps a target name to pkg-config package names (space separated; empty for header-only
libraries under /usr/include). Link flags come from `pkg-config --libs`; include directories from
`--cflags` are symlinked into the repository, because Bazel only propagates include paths that
live inside a repository.
"""

def _system_libraries_impl(ctx):
    lines = ["package(default_visibility = [\"//visibility:public\"])", ""]
    for name, packages in ctx.attr.libraries.items():
        linkopts = []
        includes = []
        if packages.strip():
            res = ctx.execute(["pkg-config", "--libs", "--cflags"] + packages.split(" "))
            if res.return_code != 0:
                fail("pkg-config %s failed: %s" % (packages, res.stderr))
            for flag in res.stdout.strip().split(" "):
                if flag.startswith("-I"):
                    target = "include_%s_%d" % (name, len(includes))
                    ctx.symlink(flag[2:], target)
                    includes.append(target)
                elif flag.startswith("-l") or flag.startswith("-L") or flag == "-pthread":
                    linkopts.append(flag)
        extra = ctx.attr.extra_linkopts.get(name, "")
        if extra:
            linkopts += extra.split(" ")
        hdrs = ["glob([\"%s/**\"])" % inc for inc in includes]
        lines.append("cc_library(")
        lines.append("    name = \"%s\"," % name)
        lines.append("    hdrs = %s," % (" + ".join(hdrs) if hdrs else "[]"))
        lines.append("    includes = %s," % repr(includes))
        lines.append("    linkopts = %s," % repr(linkopts))
        lines.append(")")
        lines.append("")
    ctx.file("BUILD.bazel", "\n".join(lines))
    ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % ctx.name)

system_libraries = repository_rule(
    implementation = _system_libraries_impl,
    attrs = {
        "libraries": attr.string_dict(mandatory = True),
        "extra_linkopts": attr.string_dict(),
    },
    local = True,
)
