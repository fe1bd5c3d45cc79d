"""The symbol table: LaTeX commands with their Unicode character, TeX class, MathML and AsciiMath.

One line per command in :data:`_TABLE`: ``command  unicode  kind  [asciimath]`` where ``kind`` is
the TeX atom class (``ord op bin rel open close punct inner``) or ``fn`` (a named function such
as ``\\sin``), ``accent`` (``\\hat``, ``\\overline`` …; the Unicode column is the accent mark),
``under`` (an accent below), ``font`` (``\\mathbb`` …; the Unicode column names the MathML
``mathvariant``) or ``space`` (the Unicode column is the width in em). A missing AsciiMath
column means "write the Unicode character".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from html import escape as html_escape


@dataclass(frozen=True)
class Symbol:
    """One command of the table."""

    command: str
    unicode: str
    kind: str
    asciimath: str

    @cached_property
    def mathml(self) -> str:
        """The MathML Core element for the symbol on its own (``<mo>≤</mo>``)."""
        text = html_escape(self.unicode, quote=False)  # & < > (xml.sax would import urllib)
        if self.kind == "fn":
            return f"<mi>{text}</mi>"
        if self.kind == "ord":
            if self.unicode.isalpha() and self.unicode.isupper() and not self.unicode.isascii():
                return f'<mi mathvariant="normal">{text}</mi>'
            if self.unicode.isalpha():
                return f"<mi>{text}</mi>"
            if self.unicode in _MI_SYMBOLS:
                return f"<mi>{text}</mi>"
            return f'<mo lspace="0" rspace="0">{text}</mo>'
        if self.kind in ("open", "close"):
            return f'<mo stretchy="false" lspace="0" rspace="0">{text}</mo>'
        if self.kind == "space":
            return f'<mspace width="{self.unicode}em"></mspace>'
        if self.kind in ("accent", "under", "font"):
            return f"<mo>{text}</mo>"
        return f"<mo>{text}</mo>"


#: Upright function names TeX sets in the roman font inside math (each is also a command).
FUNCTION_NAMES = frozenset(
    [
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "sinh",
        "cosh",
        "tanh",
        "arcsin",
        "arccos",
        "arctan",
        "log",
        "ln",
        "exp",
        "lim",
        "sup",
        "inf",
        "max",
        "min",
        "det",
        "dim",
        "ker",
        "deg",
        "arg",
        "gcd",
        "Pr",
    ]
)
_MI_SYMBOLS = frozenset("∞∂∇∅ℏℓ℘ℜℑıȷ△⊤⊥ℵℶℷℸ∠∡∢♭♮♯♣♢♡♠□■◊⧫★✓∁℧ð⅁Ⅎ▲▼▽Ⓢ✠¥£§¶©")

_TABLE = r"""
\alpha α ord alpha
\beta β ord beta
\gamma γ ord gamma
\delta δ ord delta
\epsilon ϵ ord epsilon
\varepsilon ε ord epsilon
\zeta ζ ord zeta
\eta η ord eta
\theta θ ord theta
\vartheta ϑ ord vartheta
\iota ι ord iota
\kappa κ ord kappa
\varkappa ϰ ord kappa
\lambda λ ord lambda
\mu μ ord mu
\nu ν ord nu
\xi ξ ord xi
\omicron ο ord
\pi π ord pi
\varpi ϖ ord
\rho ρ ord rho
\varrho ϱ ord
\sigma σ ord sigma
\varsigma ς ord
\tau τ ord tau
\upsilon υ ord upsilon
\phi ϕ ord varphi
\varphi φ ord phi
\chi χ ord chi
\psi ψ ord psi
\omega ω ord omega
\digamma ϝ ord
\Gamma Γ ord Gamma
\Delta Δ ord Delta
\Theta Θ ord Theta
\Lambda Λ ord Lambda
\Xi Ξ ord Xi
\Pi Π ord Pi
\Sigma Σ ord Sigma
\Upsilon Υ ord
\Phi Φ ord Phi
\Psi Ψ ord Psi
\Omega Ω ord Omega
\varGamma Γ ord Gamma
\varDelta Δ ord Delta
\varTheta Θ ord Theta
\varLambda Λ ord Lambda
\varXi Ξ ord Xi
\varPi Π ord Pi
\varSigma Σ ord Sigma
\varUpsilon Υ ord
\varPhi Φ ord Phi
\varPsi Ψ ord Psi
\varOmega Ω ord Omega
\aleph ℵ ord aleph
\beth ℶ ord
\gimel ℷ ord
\daleth ℸ ord
\infty ∞ ord oo
\partial ∂ ord del
\nabla ∇ ord grad
\forall ∀ ord AA
\exists ∃ ord EE
\nexists ∄ ord
\neg ¬ ord not
\emptyset ∅ ord O/
\varnothing ∅ ord O/
\hbar ℏ ord
\hslash ℏ ord
\ell ℓ ord
\wp ℘ ord
\Re ℜ ord
\Im ℑ ord
\imath ı ord
\jmath ȷ ord
\prime ′ ord '
\backprime ‵ ord
\angle ∠ ord /_
\measuredangle ∡ ord
\sphericalangle ∢ ord
\triangle △ ord
\triangledown ▽ ord
\blacktriangle ▲ ord
\blacktriangledown ▼ ord
\top ⊤ ord TT
\bot ⊥ ord
\surd √ ord
\flat ♭ ord
\natural ♮ ord
\sharp ♯ ord
\clubsuit ♣ ord
\diamondsuit ♢ ord
\heartsuit ♡ ord
\spadesuit ♠ ord
\square □ ord square
\Box □ ord square
\blacksquare ■ ord
\lozenge ◊ ord
\blacklozenge ⧫ ord
\bigstar ★ ord
\checkmark ✓ ord
\complement ∁ ord
\mho ℧ ord
\eth ð ord
\Finv Ⅎ ord
\Game ⅁ ord
\circledS Ⓢ ord
\maltese ✠ ord
\yen ¥ ord
\pounds £ ord
\S § ord
\P ¶ ord
\copyright © ord
\diagup ╱ ord
\diagdown ╲ ord
\backslash \ ord \\
\| ‖ ord ||
\Vert ‖ ord ||
\vert | ord |
\% % ord %
\# # ord #
\& & ord &
\$ $ ord $
\_ _ ord _
\ldots … inner ...
\dots … inner ...
\dotsc … inner ...
\dotso … inner ...
\hdots … inner ...
\cdots ⋯ inner cdots
\dotsb ⋯ inner cdots
\dotsm ⋯ inner cdots
\dotsi ⋯ inner cdots
\vdots ⋮ ord vdots
\ddots ⋱ inner ddots
\iddots ⋰ inner
\ldotp . punct .
\cdotp ⋅ punct
\colon : punct :
\{ { open {
\} } close }
\lbrace { open {
\rbrace } close }
\lbrack [ open [
\rbrack ] close ]
\langle ⟨ open (:
\rangle ⟩ close :)
\lfloor ⌊ open |__
\rfloor ⌋ close __|
\lceil ⌈ open |~
\rceil ⌉ close ~|
\lvert | open |
\rvert | close |
\lVert ‖ open ||
\rVert ‖ close ||
\lgroup ⟮ open
\rgroup ⟯ close
\ulcorner ⌜ open
\urcorner ⌝ close
\llcorner ⌞ open
\lrcorner ⌟ close
\llbracket ⟦ open [[
\rrbracket ⟧ close ]]
\lmoustache ⎰ open
\rmoustache ⎱ close
\pm ± bin +-
\mp ∓ bin -+
\times × bin xx
\div ÷ bin -:
\cdot ⋅ bin *
\centerdot ⋅ bin *
\ast ∗ bin **
\star ⋆ bin ***
\circ ∘ bin @
\bullet ∙ bin
\oplus ⊕ bin o+
\ominus ⊖ bin
\otimes ⊗ bin ox
\oslash ⊘ bin
\odot ⊙ bin o.
\cap ∩ bin nn
\cup ∪ bin uu
\Cap ⋒ bin
\Cup ⋓ bin
\uplus ⊎ bin
\sqcap ⊓ bin
\sqcup ⊔ bin
\vee ∨ bin vv
\wedge ∧ bin ^^
\lor ∨ bin vv
\land ∧ bin ^^
\setminus ∖ bin \\
\smallsetminus ∖ bin \\
\wr ≀ bin
\diamond ⋄ bin diamond
\bigtriangleup △ bin
\bigtriangledown ▽ bin
\triangleleft ◃ bin
\triangleright ▹ bin
\lhd ⊲ bin
\rhd ⊳ bin
\unlhd ⊴ bin
\unrhd ⊵ bin
\amalg ⨿ bin
\dagger † bin
\ddagger ‡ bin
\dag † bin
\ddag ‡ bin
\bigcirc ◯ bin
\ltimes ⋉ bin |><
\rtimes ⋊ bin ><|
\leftthreetimes ⋋ bin
\rightthreetimes ⋌ bin
\curlyvee ⋎ bin
\curlywedge ⋏ bin
\boxplus ⊞ bin
\boxminus ⊟ bin
\boxtimes ⊠ bin
\boxdot ⊡ bin
\circledast ⊛ bin
\circledcirc ⊚ bin
\circleddash ⊝ bin
\dotplus ∔ bin
\divideontimes ⋇ bin
\barwedge ⌅ bin
\veebar ⊻ bin
\doublebarwedge ⩞ bin
\intercal ⊺ bin
\bmod mod bin mod
\sum ∑ op sum
\prod ∏ op prod
\coprod ∐ op
\int ∫ op int
\iint ∬ op
\iiint ∭ op
\iiiint ⨌ op
\oint ∮ op oint
\oiint ∯ op
\smallint ∫ op int
\bigcup ⋃ op uuu
\bigcap ⋂ op nnn
\bigvee ⋁ op vvv
\bigwedge ⋀ op ^^^
\bigoplus ⨁ op
\bigotimes ⨂ op
\bigodot ⨀ op
\biguplus ⨄ op
\bigsqcup ⨆ op
\leq ≤ rel <=
\geq ≥ rel >=
\le ≤ rel <=
\ge ≥ rel >=
\neq ≠ rel !=
\ne ≠ rel !=
\lt < rel <
\gt > rel >
\equiv ≡ rel -=
\approx ≈ rel ~~
\cong ≅ rel ~=
\ncong ≇ rel
\sim ∼ rel ~
\nsim ≁ rel
\simeq ≃ rel
\propto ∝ rel prop
\varpropto ∝ rel prop
\in ∈ rel in
\notin ∉ rel !in
\ni ∋ rel
\owns ∋ rel
\subset ⊂ rel sub
\supset ⊃ rel sup
\subseteq ⊆ rel sube
\supseteq ⊇ rel supe
\subsetneq ⊊ rel
\supsetneq ⊋ rel
\subseteqq ⫅ rel
\supseteqq ⫆ rel
\subsetneqq ⫋ rel
\supsetneqq ⫌ rel
\varsubsetneq ⊊ rel
\varsupsetneq ⊋ rel
\varsubsetneqq ⫋ rel
\varsupsetneqq ⫌ rel
\nsubseteq ⊈ rel
\nsupseteq ⊉ rel
\Subset ⋐ rel
\Supset ⋑ rel
\sqsubset ⊏ rel
\sqsupset ⊐ rel
\sqsubseteq ⊑ rel
\sqsupseteq ⊒ rel
\prec ≺ rel -<
\succ ≻ rel >-
\preceq ⪯ rel -<=
\succeq ⪰ rel >-=
\preccurlyeq ≼ rel
\succcurlyeq ≽ rel
\precsim ≾ rel
\succsim ≿ rel
\nprec ⊀ rel
\nsucc ⊁ rel
\curlyeqprec ⋞ rel
\curlyeqsucc ⋟ rel
\ll ≪ rel
\gg ≫ rel
\lll ⋘ rel
\ggg ⋙ rel
\leqslant ⩽ rel <=
\geqslant ⩾ rel >=
\leqq ≦ rel
\geqq ≧ rel
\lneq ⪇ rel
\gneq ⪈ rel
\lneqq ≨ rel
\gneqq ≩ rel
\lesssim ≲ rel
\gtrsim ≳ rel
\lessgtr ≶ rel
\gtrless ≷ rel
\lessdot ⋖ rel
\gtrdot ⋗ rel
\nless ≮ rel
\ngtr ≯ rel
\nleq ≰ rel
\ngeq ≱ rel
\perp ⊥ rel _|_
\parallel ∥ rel
\nparallel ∦ rel
\mid ∣ rel |
\nmid ∤ rel
\shortmid ∣ rel
\shortparallel ∥ rel
\vdash ⊢ rel |--
\dashv ⊣ rel
\models ⊨ rel |==
\vDash ⊨ rel
\Vdash ⊩ rel
\nvdash ⊬ rel
\nvDash ⊭ rel
\asymp ≍ rel
\doteq ≐ rel
\doteqdot ≑ rel
\risingdotseq ≓ rel
\fallingdotseq ≒ rel
\circeq ≗ rel
\triangleq ≜ rel
\bumpeq ≏ rel
\Bumpeq ≎ rel
\approxeq ≊ rel
\backsim ∽ rel
\eqsim ≂ rel
\thicksim ∼ rel
\thickapprox ≈ rel
\bowtie ⋈ rel
\smile ⌣ rel
\frown ⌢ rel frown
\between ≬ rel
\pitchfork ⋔ rel
\trianglelefteq ⊴ rel
\trianglerighteq ⊵ rel
\vartriangleleft ⊲ rel
\vartriangleright ⊳ rel
\ntriangleleft ⋪ rel
\ntriangleright ⋫ rel
\therefore ∴ rel :.
\because ∵ rel :'
\coloneqq ≔ rel :=
\leftarrow ← rel larr
\gets ← rel larr
\rightarrow → rel rarr
\to → rel ->
\leftrightarrow ↔ rel harr
\Leftarrow ⇐ rel lArr
\Rightarrow ⇒ rel rArr
\Leftrightarrow ⇔ rel hArr
\longleftarrow ⟵ rel larr
\longrightarrow ⟶ rel rarr
\longleftrightarrow ⟷ rel harr
\Longleftarrow ⟸ rel lArr
\Longrightarrow ⟹ rel rArr
\Longleftrightarrow ⟺ rel hArr
\iff ⟺ rel iff
\implies ⟹ rel =>
\impliedby ⟸ rel
\mapsto ↦ rel |->
\longmapsto ⟼ rel |->
\uparrow ↑ rel uarr
\downarrow ↓ rel darr
\updownarrow ↕ rel
\Uparrow ⇑ rel uArr
\Downarrow ⇓ rel dArr
\Updownarrow ⇕ rel
\nearrow ↗ rel
\searrow ↘ rel
\swarrow ↙ rel
\nwarrow ↖ rel
\hookleftarrow ↩ rel
\hookrightarrow ↪ rel
\leftharpoonup ↼ rel
\leftharpoondown ↽ rel
\rightharpoonup ⇀ rel
\rightharpoondown ⇁ rel
\rightleftharpoons ⇌ rel
\leftrightharpoons ⇋ rel
\upharpoonleft ↿ rel
\upharpoonright ↾ rel
\downharpoonleft ⇃ rel
\downharpoonright ⇂ rel
\twoheadrightarrow ↠ rel ->>
\twoheadleftarrow ↞ rel
\rightarrowtail ↣ rel >->
\leftarrowtail ↢ rel
\leftleftarrows ⇇ rel
\rightrightarrows ⇉ rel
\leftrightarrows ⇆ rel
\rightleftarrows ⇄ rel
\upuparrows ⇈ rel
\downdownarrows ⇊ rel
\curvearrowleft ↶ rel
\curvearrowright ↷ rel
\circlearrowleft ↺ rel
\circlearrowright ↻ rel
\Lsh ↰ rel
\Rsh ↱ rel
\nleftarrow ↚ rel
\nrightarrow ↛ rel
\nLeftarrow ⇍ rel
\nRightarrow ⇏ rel
\nleftrightarrow ↮ rel
\nLeftrightarrow ⇎ rel
\leadsto ⇝ rel
\rightsquigarrow ⇝ rel
\leftrightsquigarrow ↭ rel
\Lleftarrow ⇚ rel
\Rrightarrow ⇛ rel
\dashrightarrow ⇢ rel
\dashleftarrow ⇠ rel
\multimap ⊸ rel
\arccos arccos fn arccos
\arcsin arcsin fn arcsin
\arctan arctan fn arctan
\arg arg fn arg
\cos cos fn cos
\cosh cosh fn cosh
\cot cot fn cot
\coth coth fn coth
\csc csc fn csc
\sec sec fn sec
\sin sin fn sin
\sinh sinh fn sinh
\tan tan fn tan
\tanh tanh fn tanh
\deg deg fn deg
\det det fn det
\dim dim fn dim
\exp exp fn exp
\gcd gcd fn gcd
\hom hom fn hom
\inf inf fn inf
\sup sup fn sup
\ker ker fn ker
\lg lg fn lg
\ln ln fn ln
\log log fn log
\lim lim fn lim
\liminf liminf fn liminf
\limsup limsup fn limsup
\max max fn max
\min min fn min
\Pr Pr fn Pr
\hat ˆ accent hat
\widehat ̂ accent hat
\check ˇ accent
\widecheck ˇ accent
\tilde ~ accent tilde
\widetilde ~ accent tilde
\acute ´ accent
\grave ` accent
\dot ˙ accent dot
\ddot ¨ accent ddot
\dddot ⃛ accent
\ddddot ⃜ accent
\breve ˘ accent
\bar ¯ accent bar
\overline ― accent bar
\vec → accent vec
\mathring ˚ accent
\overrightarrow → accent vec
\overleftarrow ← accent
\overleftrightarrow ↔ accent
\overbrace ⏞ accent obrace
\underline _ under ul
\underbrace ⏟ under ubrace
\underrightarrow → under
\underleftarrow ← under
\underleftrightarrow ↔ under
\mathbb double-struck font bbb
\mathbf bold font bb
\mathcal script font cc
\mathscr script font cc
\mathfrak fraktur font fr
\mathrm normal font rm
\mathup normal font rm
\mathit italic font ii
\mathnormal italic font ii
\mathsf sans-serif font sf
\mathtt monospace font tt
\boldsymbol bold-italic font bb
\bm bold-italic font bb
\pmb bold font bb
\, 0.1667 space
\: 0.2222 space
\> 0.2222 space
\; 0.2778 space
\! -0.1667 space
\thinspace 0.1667 space
\medspace 0.2222 space
\thickspace 0.2778 space
\negthinspace -0.1667 space
\negmedspace -0.2222 space
\negthickspace -0.2778 space
\enspace 0.5 space
\quad 1 space quad
\qquad 2 space qquad
\  0.3333 space
~ 0.3333 space
"""


def _load(table: str) -> dict[str, Symbol]:
    symbols: dict[str, Symbol] = {}
    for line in table.strip("\n").split("\n"):
        if line.startswith("\\ "):  # the control space: its name is "\ "
            command, rest = "\\ ", line[3:].split()
        else:
            command, *rest = line.split()
        unicode, kind = rest[0], rest[1]
        ascii_form = rest[2] if len(rest) > 2 else unicode
        symbols[command] = Symbol(command, unicode, kind, ascii_form)
    return symbols


#: Every command of the table by name (``SYMBOLS["\\leq"].unicode == "≤"``).
SYMBOLS: dict[str, Symbol] = _load(_TABLE)

#: Unicode characters that stand for one command (``"α" -> "\\alpha"``); the first command of
#: the table with that character wins, so synonyms map to the canonical spelling.
UNICODE_TO_COMMAND: dict[str, str] = {}
for _symbol in SYMBOLS.values():
    if _symbol.kind in ("fn", "accent", "under", "font", "space") or len(_symbol.unicode) != 1:
        continue
    if _symbol.unicode.isascii():
        continue
    UNICODE_TO_COMMAND.setdefault(_symbol.unicode, _symbol.command)
UNICODE_TO_COMMAND.update({"−": "-", "′": "'", "…": "\\ldots", "·": "\\cdot", "∣": "\\mid"})
