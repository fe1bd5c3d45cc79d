"""What the parser and the normalizer know about commands: arguments, synonyms, classes.

Argument specs are strings, one letter per argument, read left to right:

====  ========================================================================================
``m``  a mandatory math argument: ``{...}`` or one token (``\\frac12``)
``o``  an optional math argument ``[...]`` (``\\sqrt[3]{x}``)
``t``  a mandatory text argument (``\\text{...}``): spaces kept, ``$...$`` allowed inside
``r``  a mandatory verbatim argument (a dimension, a column spec, a label): kept as tokens
``O``  an optional verbatim argument ``[...]``
``d``  an unbraced TeX dimension (``\\kern 2pt``, ``\\kern-\\nulldelimiterspace``)
``D``  a delimiter (``\\big(``)
``s``  an optional star (``\\operatorname*``)
====  ========================================================================================
"""

from __future__ import annotations

from scipix.latex.symbols import SYMBOLS


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` as a set."""
    return frozenset(text.split())


_SPECS_BY_SPEC: dict[str, str] = {
    "mm": r"\frac \dfrac \tfrac \binom \dbinom \tbinom \stackrel \overset \underset \sideset"
    r" \textcolor \colorbox",
    "om": r"\sqrt \xrightarrow \xleftarrow \xleftrightarrow \xRightarrow \xLeftarrow"
    r" \xLeftrightarrow \xmapsto \xhookrightarrow \xhookleftarrow \xlongequal",
    "m": r"\hat \widehat \check \widecheck \tilde \widetilde \acute \grave \dot \ddot \dddot"
    r" \ddddot \breve \bar \overline \vec \mathring \overrightarrow \overleftarrow"
    r" \overleftrightarrow \underline \underbrace \overbrace \underrightarrow \underleftarrow"
    r" \underleftrightarrow \overparen \underparen \overgroup \undergroup"
    r" \mathbb \mathbf \mathcal \mathscr \mathfrak \mathrm \mathup \mathit \mathnormal \mathsf"
    r" \mathtt \boldsymbol \bm \pmb \mathbbm \mathds \Bbb"
    r" \mathop \mathrel \mathbin \mathord \mathopen \mathclose \mathpunct \mathinner"
    r" \phantom \vphantom \hphantom \boxed \cancel \bcancel \xcancel \sout \ensuremath"
    r" \pmod \mod \pod \uppercase \lowercase \lefteqn \rlap \llap \mathllap \mathrlap"
    r" \mathclap \clap \overarc \wideparen \widering",
    "sm": r"\operatorname",
    "Om": r"\smash",
    "t": r"\text \mbox \textrm \textbf \textit \textsf \texttt \textup \textnormal \textsl"
    r" \textsc \textmd \emph \fbox \hbox \textsubscript \textsuperscript \intertext"
    r" \d \b \c \v \u \H \t \r \k \' \" \^ \~ \= \. \`",
    "st": r"\tag",
    "r": r"\label \ref \eqref \color \cline \pagecolor",
    "sr": r"\hspace \vspace",
    "rr": r"\setlength \addtolength",
    "rrm": r"\multicolumn \multirow",
    "rrrrmm": r"\genfrac",
    "rOOt": r"\raisebox",
    "OOt": r"\makebox \framebox",
    "Orr": r"\rule",
    "d": r"\kern \mkern \hskip \mskip \vskip \raise \lower \moveleft \moveright",
    "D": r"\big \Big \bigg \Bigg \bigl \Bigl \biggl \Biggl \bigr \Bigr \biggr \Biggr \bigm \Bigm"
    r" \biggm \Biggm",
}

#: command -> argument spec (commands missing here take no argument).
ARG_SPECS: dict[str, str] = {
    name: spec for spec, names in _SPECS_BY_SPEC.items() for name in names.split()
}
#: ``\cfrac[l]{a}{b}``
ARG_SPECS["\\cfrac"] = "Omm"

#: Text-mode argument specs (commands inside ``\text{...}`` that take arguments).
TEXT_SPECS: dict[str, str] = {
    name: spec for name, spec in ARG_SPECS.items() if spec in ("t", "st", "sr", "r", "rOOt", "OOt")
}
TEXT_SPECS.update({"\\textcolor": "rt", "\\ensuremath": "m"})

#: Generalized fractions written between their operands (``{a \over b}``).
INFIX = frozenset({"\\over", "\\atop", "\\choose", "\\above", "\\brace", "\\brack"})

#: Old-style font switches and what the lossy normalizer turns them into.
FONT_SWITCHES: dict[str, str] = {
    "\\bf": "\\mathbf",
    "\\rm": "\\mathrm",
    "\\it": "\\mathit",
    "\\sf": "\\mathsf",
    "\\tt": "\\mathtt",
    "\\cal": "\\mathcal",
    "\\mit": "\\mathit",
    "\\sl": "\\mathit",
    "\\em": "\\mathit",
    "\\Bbb": "\\mathbb",
    "\\frak": "\\mathfrak",
    "\\bold": "\\mathbf",
    "\\boldmath": "",
    "\\unboldmath": "",
    "\\sc": "",
    "\\normalfont": "",
    "\\upshape": "",
    "\\itshape": "\\mathit",
    "\\bfseries": "\\mathbf",
    "\\rmfamily": "\\mathrm",
    "\\sffamily": "\\mathsf",
    "\\ttfamily": "\\mathtt",
}
STYLE_SWITCHES = frozenset(
    {"\\displaystyle", "\\textstyle", "\\scriptstyle", "\\scriptscriptstyle"}
)
SIZE_SWITCHES = frozenset(
    {
        "\\tiny",
        "\\scriptsize",
        "\\footnotesize",
        "\\small",
        "\\normalsize",
        "\\large",
        "\\Large",
        "\\LARGE",
        "\\huge",
        "\\Huge",
    }
)
#: Spacing commands (and what ``drop_spacing`` removes).
SPACING = frozenset(
    {
        "\\,",
        "\\:",
        "\\>",
        "\\;",
        "\\!",
        "\\ ",
        "~",
        "\\quad",
        "\\qquad",
        "\\enspace",
        "\\thinspace",
        "\\medspace",
        "\\thickspace",
        "\\negthinspace",
        "\\negmedspace",
        "\\negthickspace",
        "\\hfill",
        "\\hfil",
        "\\enskip",
        "\\space",
        "\\nobreakspace",
        "\\hspace",
        "\\kern",
        "\\mkern",
        "\\hskip",
        "\\mskip",
        "\\/",
        "\\allowbreak",
        "\\nobreak",
        "\\vspace",
        "\\vskip",
        "\\smallskip",
        "\\medskip",
        "\\bigskip",
    }
)
LABELS = frozenset({"\\label", "\\nonumber", "\\notag"})

#: Spellings that render identically, mapped to the one the normalizer writes.
SYNONYMS: dict[str, str] = {
    "\\le": "\\leq",
    "\\ge": "\\geq",
    "\\ne": "\\neq",
    "\\to": "\\rightarrow",
    "\\gets": "\\leftarrow",
    "\\lt": "<",
    "\\gt": ">",
    "\\lbrace": "\\{",
    "\\rbrace": "\\}",
    "\\lbrack": "[",
    "\\rbrack": "]",
    "\\vert": "|",
    "\\Vert": "\\|",
    "\\land": "\\wedge",
    "\\lor": "\\vee",
    "\\lnot": "\\neg",
    "\\dag": "\\dagger",
    "\\ddag": "\\ddagger",
    "\\owns": "\\ni",
    "\\ast": "*",
    "\\>": "\\:",
    "\\medspace": "\\:",
    "\\thickspace": "\\;",
    "\\nobreakspace": "\\ ",
    "\\Box": "\\square",
    "\\hdots": "\\ldots",
    "\\bold": "\\bf",
    "\\Bbb": "\\mathbb",
}
#: Delimiter spellings after ``\left``/``\right``/``\big``: the canonical one.
DELIMITER_SYNONYMS: dict[str, str] = {
    "\\lbrace": "\\{",
    "\\rbrace": "\\}",
    "\\lbrack": "[",
    "\\rbrack": "]",
    "<": "\\langle",
    ">": "\\rangle",
    "\\vert": "|",
    "\\lvert": "|",
    "\\rvert": "|",
    "\\Vert": "\\|",
    "\\lVert": "\\|",
    "\\rVert": "\\|",
}
DELIMITERS = words(
    r"( ) [ ] | / . < > \{ \} \| \langle \rangle \lbrace \rbrace \lbrack \rbrack \lfloor"
    r" \rfloor \lceil \rceil \vert \Vert \lvert \rvert \lVert \rVert \uparrow \downarrow"
    r" \updownarrow \Uparrow \Downarrow \Updownarrow \backslash \lgroup \rgroup \lmoustache"
    r" \rmoustache \ulcorner \urcorner \llcorner \lrcorner \llbracket \rrbracket \arrowvert"
    r" \Arrowvert \bracevert"
)

#: Environments: name -> argument spec (``o``/``O``/``r`` as above).
ENVIRONMENTS: dict[str, str] = {
    "matrix": "",
    "pmatrix": "",
    "bmatrix": "",
    "Bmatrix": "",
    "vmatrix": "",
    "Vmatrix": "",
    "smallmatrix": "",
    "matrix*": "O",
    "pmatrix*": "O",
    "bmatrix*": "O",
    "cases": "",
    "dcases": "",
    "rcases": "",
    "cases*": "",
    "aligned": "O",
    "alignedat": "r",
    "gathered": "O",
    "split": "",
    "array": "Or",
    "subarray": "r",
    "tabular": "Or",
    "align": "",
    "align*": "",
    "alignat": "r",
    "alignat*": "r",
    "equation": "",
    "equation*": "",
    "gather": "",
    "gather*": "",
    "multline": "",
    "multline*": "",
    "eqnarray": "",
    "eqnarray*": "",
    "flalign": "",
    "flalign*": "",
    "CD": "",
    "picture": "",
}

#: Commands allowed at the start of an environment row (``\hline``).
ROW_RULES = frozenset(
    {"\\hline", "\\hdashline", "\\cline", "\\toprule", "\\midrule", "\\bottomrule"}
)

#: Math-mode atoms (by canonical spelling) that TeX treats as one Ord character: braces around
#: them alone are dropped by TeX itself (``{x}^2`` is ``x^2``), so the normalizer drops them.
ORD_ATOMS = frozenset(
    [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./|@"]
    + [
        name
        for name, symbol in SYMBOLS.items()
        if symbol.kind == "ord"
        and name[1:].isalpha()
        and name
        not in {
            "\\hbar",
            "\\hslash",
            "\\vdots",
            "\\S",
            "\\P",
            "\\copyright",
            "\\pounds",
            "\\yen",
            "\\maltese",
            "\\checkmark",
            "\\Box",
            "\\square",
            "\\blacksquare",
            "\\surd",
            "\\vert",
            "\\Vert",
            "\\mho",
            "\\Finv",
            "\\Game",
            "\\circledS",
            "\\diagup",
            "\\diagdown",
            "\\eth",
            "\\lozenge",
            "\\blacklozenge",
            "\\bigstar",
            "\\blacktriangle",
            "\\blacktriangledown",
            "\\triangledown",
            "\\measuredangle",
            "\\sphericalangle",
            "\\backprime",
            "\\nexists",
            "\\complement",
            "\\varnothing",
            "\\beth",
            "\\gimel",
            "\\daleth",
            "\\digamma",
            "\\varkappa",
            "\\omicron",
        }
        and not name.startswith("\\var")
    ]
    + ["\\varepsilon", "\\vartheta", "\\varpi", "\\varrho", "\\varsigma", "\\varphi"]
)
#: Commands that TeX turns into one accent noad (braces around them alone are dropped).
ACCENT_NOADS = words(
    r"\hat \widehat \check \tilde \widetilde \acute \grave \dot \ddot \breve \bar \vec"
    r" \mathring"
)
#: Commands whose result is one brace group (braces around them alone are dropped).
BRACED_RESULTS = words(
    r"\mathbb \mathbf \mathcal \mathscr \mathfrak \mathrm \mathit \mathnormal \mathsf"
    r" \mathtt \frac \dfrac \tfrac \binom \dbinom \tbinom \mathord"
)

#: Items that make a brace group matter even when it is the only content: glue that stretches
#: only outside the group's box, vertical material, and amsmath dots (whose spacing depends on
#: the token after them).
KEEP_GROUP_ITEMS = words(
    r"\hfill \hfil \hss \hfilneg \dotfill \hrulefill \medskip \smallskip \bigskip \vspace"
    r" \vskip \vfill \hspace \hskip \cdots \dots \dotsc \dotsb \dotsm \dotsi \dotso \ldots"
    r" \newline \linebreak \pagebreak \vadjust"
)

#: ``\operatorname{sin}`` is ``\sin``; ``\operatorname*{lim}`` is ``\lim``.
OPERATOR_NAMES = words(
    r"arccos arcsin arctan arg cos cosh cot coth csc deg dim exp hom ker lg ln log sec"
    r" sin sinh tan tanh"
)
OPERATOR_NAMES_LIMITS = words("det gcd inf lim max min Pr sup")

#: Every command the validator accepts (symbols, commands with arguments, switches, …).
KNOWN_COMMANDS = frozenset(
    set(SYMBOLS)
    | set(ARG_SPECS)
    | INFIX
    | set(FONT_SWITCHES)
    | STYLE_SWITCHES
    | SIZE_SWITCHES
    | SPACING
    | LABELS
    | ROW_RULES
    | words(
        r"\limits \nolimits \not \protect \relax \left \right \middle \begin \end \sp \sb"
        r" \substack \mathstrut \strut \cr \newline \noindent \par \unitlength"
        r" \nulldelimiterspace \arraycolsep \fill \hfill \vfill \dots \iff \implies \colon"
        r" \notin \AA \aa \AE \ae \OE \oe \O \o \L \l \i \j \ss \textbackslash"
        r" \textasciitilde \textasciicircum \textbar \textless \textgreater \textendash"
        r" \textemdash \ldots \textdegree \degree \circ \thicklines \thinlines \put \circle"
        r" \line \vector \oval \linethickness \multiput \qbezier \dashbox \frame \vline"
        r" \hdotsfor \dotfill \nonscript \mathsurround \displaybreak \eqno \leqno \hss \vss"
        r" \null \empty \TeX \LaTeX \today \space \nobreakspace \negthinspace \iddots"
        r" \mathellipsis \smallfrown \smallsmile \Join \lhook \rhook \mapstochar \relbar"
        r" \Relbar \joinrel \bigm \textregistered \texttrademark \dagger \ddagger"
    )
)
