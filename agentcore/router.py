"""Routing: which specialist takes a task, whether it thinks, and why.

:func:`route` asks the plugins first (the ``agentcore_route`` hook: the first non-``None`` answer wins),
then the built-in rule router. The rule router needs no model: it scores each specialist by weighted
*cues* (regular expressions over the lower-cased, accent-stripped task) in English, Chinese and Spanish,
plus language-free signals (code syntax, math notation, how many numbers the task holds). Every cue that
fired is kept, so the decision explains itself. Tasks with images go to ``vl``.

Thinking is scored the same way: proofs, analysis, comparison, step-by-step requests, design and
debugging, multi-step math and long tasks turn it on; short factual questions, greetings and requests
for brevity turn it off. The chosen specialist's :class:`~agentcore.specialists.ThinkingPolicy` then has
the last word (``on``/``off`` override the cues).

:class:`ModelRouter` is the optional model-based router: a small model picks a specialist through a
forced ``choose_specialist`` tool call whose argument is an enum of the specialist names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from agentcore.errors import ConfigurationError

#: A coder or math score must reach this (and beat ``general``) to take the task.
MIN_SPECIALIST_SCORE = 2.0
#: ``general``'s score before any cue: the default for tasks nothing else claims.
GENERAL_PRIOR = 1.0
#: Thinking turns on at this score.
THINKING_THRESHOLD = 2.0
#: Weight of each ``route_cues`` pattern a (plugin) specialist declares.
CUSTOM_CUE_WEIGHT = 2.0


class RouteDecision(BaseModel):
    """Which specialist takes a task, whether it thinks, the scores behind it and a one-line reason."""

    specialist: str
    thinking: bool = False
    scores: dict[str, float] = Field(default_factory=dict)
    reason: str = ""
    source: str = "rules"  # "rules", "plugin:<name>", "model"
    cues: dict[str, list[str]] = Field(default_factory=dict)  # specialist (and "thinking") → cues that fired

    def describe(self) -> str:
        """One line for people: ``→ math (thinking on) — reason``."""
        return f"→ {self.specialist} (thinking {'on' if self.thinking else 'off'}) — {self.reason}"


# ---------------------------------------------------------------------------------------------------------
# Cues


@dataclass(frozen=True)
class Cue:
    """A weighted pattern; ``label`` names it in reasons (``None``: the matched text does)."""

    pattern: re.Pattern[str]
    weight: float
    label: str | None = None


def _cues(*items: tuple[str, float] | tuple[str, float, str]) -> tuple[Cue, ...]:
    # re.ASCII: \b and \w are ASCII-only, so "python里" still has a word boundary after "python".
    return tuple(Cue(re.compile(item[0], re.ASCII), item[1], item[2] if len(item) > 2 else None) for item in items)


# Patterns run on normalize(task): lower case, accents stripped (función → funcion), full-width folded.
CODE_CUES = _cues(
    # programming languages, tools and frameworks (words that also mean something else weigh less)
    (r"\b(python|javascript|typescript|kotlin|golang|php|scala|haskell|c\+\+|c#|node\.?js|bash|powershell|"
     r"html|css|sql|mysql|postgres(ql)?|sqlite|mongodb|pytest|unittest|numpy|pandas|django|flask|fastapi|"
     r"docker(file)?|kubernetes|k8s|git|github|gitlab|npm|webpack|gunicorn|nginx|terraform|regex|json|"
     r"yaml|graphql|cuda|regular expressions?|rest api|restful|http|in c|c code)\b|go ?语言", 2.0),
    (r"\b(java|rust|ruby|perl|swift|go|react|vue|angular|spring|redis|api|sdk|cli|pip|conda|jest|shell)\b",
     1.5),
    (r"\b(binary search|quicksort|quick sort|merge ?sort|bubble sort|heap ?sort|dynamic programming|"
     r"breadth-first|depth-first|bfs|dfs|dijkstra|big-o|time complexity|space complexity|recursion|"
     r"recursive(ly)?)\b", 2.0),
    # things programmers write
    (r"\b(write|create|implement|build|code|make|generate|add|design)\b[^.?!\n]{0,40}\b(function|class|method|"
     r"script|program|module|decorator|endpoint|unit tests?|tests|api|server|cli|parser|query|regex|"
     r"dockerfile|database schema|regular expression)\b", 4.0, "asks for code"),
    (r"\b(refactor|debug|compile|deploy|lint|serialize|deserialize|instantiate)\w*", 2.5),
    (r"\b(source code|code snippet|this code|my code|the code|code review|pull request|stack ?trace|"
     r"traceback|segfault|segmentation fault|exception|compiler|syntax error|runtime error|bug)\b", 2.5),
    (r"\b(docstrings?|type hints?|type annotations?|unit tests?|test cases?|thread[- ]safe|async|await|"
     r"callbacks?|linked list|hash ?map|binary tree|array|data structure|big-o|time complexity|"
     r"database|schema|endpoint|backend|frontend|repository|variable|loop|cache|mutex|lock-free|quer(y|ies)|"
     r"index(es)?|stdout|stderr|exit code|environment variable|components?|re-?renders?|props|dependenc(y|ies)|"
     r"virtualenv|venv|runtime|null pointer|memory leak)\b", 1.5),
    (r"\b(function|class|method|code|coding|programming|script|library|package|module)s?\b", 1.0),
    # syntax: definitions, calls, operators and SQL, whatever the language of the prose
    (r"\bdef \w+\s*\(|\bfunction\s*\w*\s*\(|=>|\bconsole\.|#include|\bimport \w+|\bfrom \w+ import\b|"
     r"\w+\.\w+\(|\bprint\(|\{\s*\"\w+\"\s*:|\breturn\b[^.]*[;{}()]|```|\bselect\b.+\bfrom\b|\b(insert into|create table)\b",
     3.0, "code syntax"),
    (r"\b\w+(error|exception)\b", 2.5, "error name"),
    (r"\b[a-z]+_[a-z_]+\s*\(", 2.0, "snake_case call"),
    # Spanish
    (r"\b(escribe|crea|implementa|genera|programa)\b[^.?!\n]{0,40}\b(funcion|clase|metodo|script|programa|"
     r"consulta|pruebas?)\b", 4.0, "pide codigo"),
    (r"\b(codigo|funcion en|lista enlazada|depura\w*|compila\w*|base de datos|pruebas unitarias|"
     r"programacion|algoritmo de ordenamiento)\b", 2.0),
    # Chinese
    (r"(代码|编程|程序|脚本|调试|报错|编译|重构|单元测试|类型注解|文档字符串|链表|数组|数据库|接口|"
     r"爬虫|前端|后端|部署|正则|排序算法|快速排序|冒泡排序|二叉树|哈希表|线程安全|异步|推导式|装饰器|变量|递归|"
     r"面向对象|字典|元组|报错|异常|提交|分支|合并冲突)", 2.0),
    (r"(写|实现|编写|创建|生成)[^。？！\n]{0,12}(函数|类|方法|程序|脚本|接口|查询|测试|服务器|爬虫|网页|页面|网站)", 4.0,
     "要求写代码"),
)

MATH_CUES = _cues(
    (r"\b(derivative|differentiate|integral|integrate|antiderivative|limit of|limits?\b(?= as)|equations?|"
     r"inequalit(y|ies)|polynomial|quadratic|matri(x|ces)|determinant|eigen\w*|probability|expected value|"
     r"variance|standard deviation|factorial|permutations?|combinations|binomial|logarithm|log base|"
     r"theorem|lemma|prime numbers?|primes|gcd|lcm|greatest common|least common|modulo|congruent|"
     r"vectors?|calculus|algebra|geometry|trigonometr\w*|sine|cosine|tangent|hypotenuse|arithmetic|"
     r"geometric (series|sequence|progression)|series|sequence|infinity|infinitely)\b", 3.0),
    (r"\b(area|volume|degrees|mean|mode|digits?|integers?)\b", 1.0),
    (r"\b(divisors?|prime factors|factors of \d+|multiples of|factori[sz]e|factor \d\S*|"
     r"factor [a-z]\s*\^)|\bconvert \d|\b(fahrenheit|celsius)\b", 2.5),
    (r"\b(perimeter|circumference|radius|diameter|triangle|rectangle|square root|circle|"
     r"polygon|pentagon|hexagon|octagon|angles?|parallelogram|trapezoid|cube|sphere|cylinder|"
     r"cone|slope|intercept|parabola|fraction|percent(age)?|ratio|interest rate|compound interest|"
     r"average speed|median|sum of|product of|real solutions?|roots?|"
     r"critical points?|maxim(um|ize)|minim(um|ize)|what is \d|solve|simplify|"
     r"compute|calculate)\b", 2.0),
    (r"\b(how (many|much|long|far|fast|old|high|tall|deep|wide|heavy)|what is the|cuant[oa]s?|cual es)\b|多少|几",
     0.0, "quantity question"),
    (r"\b(how many ways|in how many|arrangements?|dice|coin flips?|odds of|chance of)\b", 2.5, "counting/chance"),
    (r"\d\s*(times|plus|minus|divided by|multiplied by|to the power of|squared|cubed|por|mas|menos|"
     r"dividido (por|entre)|elevado a)\s*\d|\d\s*(乘以|乘|加|减|除以)\s*\d", 3.0, "arithmetic"),
    (r"\b(km/h|mph|m/s|kg|cm|km|meters|miles|hours|minutes|dollars|euros)\b|\$\s?\d|"
     r"\b\d+(\.\d+)?\s?(m|cm|mm|km|g|kg|s|h|l|ml)\b", 1.0, "quantities"),
    (r"\b(prove|proof|show that)\b", 2.5, "proof"),
    (r"\b(grows?|growth|each year|per year|annually|per cent|interest|discount|profit|loss|tax)\b", 1.0),
    (r"\b(twice|half as|times as (old|many|much|fast|long)|years (ago|older|younger)|in \d+ years|"
     r"consecutive|remainder|divisible|even numbers?|odd numbers?|el doble|la mitad|anos mayor)\b|倍|余数|整除",
     2.0, "quantity relation"),
    # notation, in any language
    (r"\d\s*[-+*/^×÷]\s*\d|[a-z]\s*\^\s*\d|\b[a-z]\s*\(\s*[a-z]\s*\)\s*=|"
     r"(?<![a-z0-9])\d+\s*[xyzn]\b|\w\s*=\s*0\b|\\frac|\\sqrt|sqrt\(|[√∫∑∏π≤≥≠∞]|\b\d+\s*!|"
     # a named function: log2(x), sin(t)
     r"\b(log\d*|ln|sin|cos|tan|exp)\s*\(", 3.0, "math notation"),
    # an unknown set equal to a number (x = 5, f(x) = 3), not a statement of code (x = 5; y = x + 1)
    (r"(?<![\w.])[a-z]\)?\s*=\s*-?\d+(?:\.\d+)?(?![\w;+\-*/.=\[(])", 2.0, "equation"),
    (r"\d+(\.\d+)?\s*%|%\s*of\b|\bpor ciento\b", 2.5, "percent"),
    # Spanish
    (r"\b(derivada|integral|limite|ecuacion|ecuaciones|inecuacion|probabilidad|teorema|demuestra|"
     r"matriz|polinomio|numeros? primos?|logaritmo|raiz cuadrada|factorial|progresion)\b", 3.0),
    (r"\b(radio|volumen|cuadrado|grados)\b", 1.0),
    (r"\b(perimetro|circulo|circunferencia|diametro|triangulo|rectangulo|angulos?|"
     r"resuelve|resolver|calcula|calcular|simplifica|suma de|promedio|"
     r"porcentaje|velocidad media|fraccion|hipotenusa)\b", 2.0),
    # Chinese
    (r"(导数|求导|积分|极限|方程|不等式|多项式|矩阵|行列式|特征值|概率|期望|方差|阶乘|排列|组合数|对数|"
     r"定理|证明|质数|素数|最大公约数|最小公倍数|数列|级数|三角函数|无理数|有理数|实数|整数解|无穷)", 3.0),
    (r"(面积|周长|体积|半径|直径|三角形|长方形|正方形|矩形|圆|多边形|内角和|角度|斜边|平均速度|"
     r"百分之|分数|最大值|最小值|化简|平方|立方|根号|之和|总和|函数\s*[a-z]\s*\()", 2.0),
    (r"(?<!量子)(?<!并行)(?<!边缘)(?<!云)计算(?!机)", 1.5, "计算"),
    (r"(?<![请要需追寻探力])求", 2.0, "求"),
)

GENERAL_CUES = _cues(
    (r"\b(essay|poem|story|letter|email|cover letter|speech|translate|translation|summari[sz]e|summary|"
     r"history of|biography|recipe|advice|recommend (a|some) (book|movie|film|place)s?|travel|trip|"
     r"introduction to|pros and cons|benefits|advantages)\b", 1.5),
    (r"\b(ensayo|poema|cuento|carta|correo|traduce|traduccion|resume|resumen|historia|receta|consejos?|"
     r"ventajas|beneficios|viaje)\b", 1.5),
    (r"(文章|诗|故事|邮件|信|翻译|总结|摘要|介绍|历史|建议|旅行|食谱|优点|好处)", 1.5),
)

THINKING_ON_CUES = _cues(
    (r"\b(prove|proof|show that|demuestra|demostrar|demostracion)\b|证明", 3.0, "proof"),
    (r"\b(step[- ]by[- ]step|paso a paso|razona|reason through|think (it )?through)\b|一步一步|逐步|详细推导",
     3.0, "step by step"),
    (r"\b(analy[sz]e|analysis|analiza|analisis|evaluate the|assess|critique)\b|分析|评估", 2.0, "analysis"),
    (r"\b(compare|comparison|contrast|compara|comparar|trade-?offs?)\b|比较|对比|权衡", 2.0, "comparison"),
    (r"\b(design|architect\w*|disena|diseñar|disenar)\b|设计|架构", 2.0, "design"),
    (r"\b(strategy|recommend|plan|optimi[sz]e|estrategia|recomienda|planifica)\b|策略|方案|规划|优化", 1.5,
     "strategy/planning"),
    (r"\b(debug|diagnose|why does|why is|why do|why did|explain why|por que|troubleshoot)\b|为什么|调试|排查",
     1.5, "why/debug"),
    (r"\b(how many ways|in how many ways|arrangements|de cuantas (maneras|formas))\b|多少种|几种方法",
     2.5, "counting"),
    (r"\b(derivative|integral|limit|solve|find all|critical points?|probability|converges?|diverges?|"
     r"determine whether|justify|"
     r"system of equations|optimization|word problem|resuelve|derivada|integral|probabilidad)\b|"
     r"求导|积分|极限|解方程|概率|证明|求", 1.5, "multi-step math"),
)

THINKING_OFF_CUES = _cues(
    (r"^(hi|hello|hey|thanks|thank you|good (morning|night|evening)|hola|gracias|buenos dias|buenas)\b|"
     r"^(你好|谢谢|早上好|晚上好)", -3.0, "greeting"),
    (r"\b(briefly|brief|short|quick(ly)?|in one (sentence|word|line)|one-liner|tl;?dr|breve|brevemente|"
     r"corto|rapido)\b|简单|简短|一句话", -2.0, "asks for brevity"),
    (r"\b(translate|traduce|caption|rewrite|rephrase)\b|翻译|改写", -1.0, "no reasoning needed"),
)

#: Cues that make a task about code even when it mentions math.
STRONG_CODE_CUES = frozenset({"code syntax", "asks for code", "pide codigo", "要求写代码"})

_QUICK_QUESTION = re.compile(
    r"^(what|who|when|where|which|how many|how much|how do you say|define|name|que|quien|cuando|donde|cual|"
    r"cuales|cuanto|como se dice)\b|^(什么|谁|哪|几|多少)|(是什么|是谁|在哪|多少|几)[？?]?$",
    re.ASCII,
)
# Numbers, except years (1000-2099 on their own), which date things rather than pose problems.
_NUMBER = re.compile(r"(?<![\w.])(?!(1\d|20)\d\d(?![\d.,]))\d+(?:[.,]\d+)?", re.ASCII)
_CJK = re.compile(r"[\u3400-\u9fff]")


def normalize(text: str) -> str:
    """Lower case, accents stripped (función → funcion), full-width forms folded (？ → ?)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().strip()


def _size(text: str) -> float:
    """Roughly the task's length in words (a CJK character counts as about two-thirds of a word)."""
    return len(re.findall(r"[a-z0-9_']+", text)) + len(_CJK.findall(text)) / 1.5


def _fire(cues: Sequence[Cue], text: str) -> tuple[float, list[str]]:
    """Sum of the weights of the cues that match, and their labels (each matched word, for word lists).

    A cue matching several different words counts more, up to double: "rectangle … perimeter … area" is
    stronger evidence than "area" alone.
    """
    total, fired = 0.0, []
    for cue in cues:
        found: list[str] = []
        for match in cue.pattern.finditer(text):
            word = match.group(0).strip()[:30]
            if word and word not in found:
                found.append(word)
        if not found:
            continue
        total += cue.weight * min(1.0 + 0.5 * (len(found) - 1), 2.0)
        labels = [cue.label] if cue.label else found[:4]
        fired += [label for label in labels if label not in fired]
    return total, fired


# ---------------------------------------------------------------------------------------------------------
# The rule router


def score_task(task: str, images: int = 0, extra_cues: dict[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """Scores and fired cues of every built-in specialist (and those with ``extra_cues``) for ``task``."""
    text = normalize(task)
    scores: dict[str, float] = {"general": GENERAL_PRIOR, "coder": 0.0, "math": 0.0, "vl": 0.0}
    cues: dict[str, list[str]] = {name: [] for name in scores}
    if images > 0:
        scores["vl"] = 10.0 + images
        cues["vl"].append(f"{images} image{'s' if images > 1 else ''} attached")
    for name, table in (("coder", CODE_CUES), ("math", MATH_CUES), ("general", GENERAL_CUES)):
        value, fired = _fire(table, text)
        scores[name] += value
        cues[name] += fired
    numbers = len(_NUMBER.findall(text))
    asks_quantity = "quantity question" in cues["math"]
    if asks_quantity:
        cues["math"].remove("quantity question")
    if numbers >= 2 and (scores["math"] > 0 or asks_quantity):
        # Several quantities in a task that looks mathematical or asks for a quantity: a word problem.
        bonus = (1.0 if numbers == 2 else 2.0) + (1.0 if asks_quantity else 0.0)
        scores["math"] += bonus
        cues["math"].append(f"{numbers} numbers")
    if scores["coder"] >= MIN_SPECIALIST_SCORE and STRONG_CODE_CUES & set(cues["coder"]):
        # Code, or a request for code, that involves arithmetic (`i * i`, a factorial) is still code.
        scores["math"] = max(0.0, scores["math"] - 2.0)
    for name, patterns in (extra_cues or {}).items():
        scores.setdefault(name, 0.0)
        cues.setdefault(name, [])
        for pattern in patterns:
            match = re.search(pattern, text)
            if match:
                scores[name] += CUSTOM_CUE_WEIGHT
                cues[name].append(match.group(0)[:30])
    return {"text": text, "scores": {k: round(v, 2) for k, v in scores.items()}, "cues": cues}


def decide_thinking(text: str, specialist: str, specialist_score: float) -> tuple[bool, list[str], float]:
    """Whether ``text`` (normalized) needs thinking, the cues that decided, and the thinking score."""
    score, fired = _fire(THINKING_ON_CUES, text)
    off, off_fired = _fire(THINKING_OFF_CUES, text)
    score += off
    fired += off_fired
    size = _size(text)
    if size >= 80:
        score += 2.0
        fired.append("long task")
    elif size >= 35:
        score += 1.0
        fired.append("longer task")
    if len(re.findall(r"[?？]", text)) >= 2 or re.search(r"(^|\n)\s*(\d+[.)]|[-*•])\s+\S", text):
        score += 1.0
        fired.append("several parts")
    if specialist == "math":
        # Math gains more from reasoning than most turns; quick arithmetic is caught below.
        score += 1.0
        fired.append("math")
        if specialist_score >= 6.0 and size >= 12:
            score += 1.0
            fired.append("substantial math")
    if size < 12 and _QUICK_QUESTION.search(text):
        score -= 1.5
        fired.append("short factual question")
    return score >= THINKING_THRESHOLD, fired, round(score, 2)


def route_by_rules(task: str, images: int = 0, specialists: dict[str, Any] | None = None) -> RouteDecision:
    """The built-in router: cue scores, no model call; deterministic and explainable."""
    if specialists is None:
        from agentcore.specialists import all_specialists

        specialists = all_specialists()
    extra = {name: spec.route_cues for name, spec in specialists.items() if getattr(spec, "route_cues", None)}
    scored = score_task(task, images, extra)
    scores, cues, text = scored["scores"], scored["cues"], scored["text"]
    available = [name for name in scores if name in specialists] or ["general"]

    if images > 0:
        vision = [name for name in available if getattr(specialists[name], "vision", False)]
        choice = max(vision, key=lambda n: scores[n]) if vision else "vl"
    else:
        contenders = [n for n in available if not getattr(specialists.get(n), "vision", False)]
        choice = "general" if "general" in contenders else contenders[0]
        best = max(contenders, key=lambda n: (scores[n], n == "general"))
        if best != "general" and scores[best] >= MIN_SPECIALIST_SCORE and scores[best] > scores.get("general", 0):
            choice = best

    thinking, thinking_cues, thinking_score = decide_thinking(text, choice, scores.get(choice, 0.0))
    policy_note = ""
    spec = specialists.get(choice)
    if spec is not None and getattr(spec, "thinking", None) is not None and spec.thinking.mode != "auto":
        thinking = spec.thinking.mode == "on"
        policy_note = f" ({choice}'s policy: thinking {spec.thinking.mode})"
    cues["thinking"] = thinking_cues

    others = sorted((n for n in scores if n != choice), key=lambda n: -scores[n])[:2]
    versus = ", ".join(f"{n} {scores[n]:g}" for n in others)
    why = ", ".join(cues.get(choice) or []) or "no specialist cue (default)"
    think_why = ", ".join(thinking_cues) or "no reasoning cue"
    reason = (
        f"{choice} {scores.get(choice, 0):g} vs {versus}: {why}; "
        f"thinking {'on' if thinking else 'off'}{policy_note}: {think_why} ({thinking_score:g})"
    )
    return RouteDecision(
        specialist=choice, thinking=thinking, scores=scores, reason=reason, source="rules", cues=cues
    )


# ---------------------------------------------------------------------------------------------------------
# route(): plugins first, then a model router if given, else the rules


def _coerce(result: Any, source: str, task: str, images: int, specialists: dict[str, Any]) -> RouteDecision:
    if isinstance(result, str):  # a bare specialist name: the rules still decide thinking
        rules = route_by_rules(task, images, {**specialists})
        thinking, _cues, _ = decide_thinking(normalize(task), result, rules.scores.get(result, 0.0))
        policy = getattr(specialists.get(result), "thinking", None)
        if policy is not None and policy.mode != "auto":
            thinking = policy.mode == "on"
        decision = RouteDecision(
            specialist=result, thinking=thinking, scores=rules.scores, reason=f"chosen by {source}", cues={}
        )
    elif isinstance(result, RouteDecision):
        decision = result.model_copy()
    elif isinstance(result, dict):
        decision = RouteDecision.model_validate(result)
    else:
        raise ConfigurationError(
            f"{source} returned {type(result).__name__} from agentcore_route; return a RouteDecision, "
            "a specialist name or None"
        )
    if decision.specialist not in specialists:
        raise ConfigurationError(
            f"{source} routed to unknown specialist {decision.specialist!r}; "
            f"known: {', '.join(specialists)}"
        )
    if decision.source == "rules":
        decision.source = source
    if not decision.reason:
        decision.reason = f"chosen by {source}"
    return decision


def _route_hook(task: str, images: int, specialists: dict[str, Any]) -> RouteDecision | None:
    from agentcore.plugins import get_plugin_manager

    pm = get_plugin_manager()
    # Called implementation by implementation (in pluggy's order) so the decision names its plugin.
    for impl in reversed(pm.hook.agentcore_route.get_hookimpls()):
        if getattr(impl, "hookwrapper", False) or getattr(impl, "wrapper", False):
            continue
        result = impl.function(task=task, images=images)
        if result is not None:
            name = pm.get_name(impl.plugin) or repr(impl.plugin)
            return _coerce(result, f"plugin:{name}", task, images, specialists)
    return None


def route(task: str, images: int = 0, *, router: ModelRouter | None = None) -> RouteDecision:
    """Choose a specialist for ``task`` with ``images`` images attached, and say why.

    Order: the ``agentcore_route`` plugin hook (first non-``None`` wins), then ``router`` when given (a
    :class:`ModelRouter`), then the rule router.
    """
    if not isinstance(task, str):
        raise TypeError(f"route() takes the task as a string, got {type(task).__name__}")
    if not isinstance(images, int) or images < 0:
        raise ValueError(f"images must be a count of attached images (an int >= 0), got {images!r}")
    from agentcore.specialists import all_specialists

    specialists = all_specialists()
    decision = _route_hook(task, images, specialists)
    if decision is not None:
        return decision
    if router is not None:
        return router.route(task, images)
    return route_by_rules(task, images, specialists)


# ---------------------------------------------------------------------------------------------------------
# The optional model-based router

CHOOSE_TOOL = "choose_specialist"


class ModelRouter:
    """Route with a (small) model: it must call ``choose_specialist(specialist=<enum>, thinking=<bool>)``.

    The request forces that one tool (``tool_choice``), so a backend with constrained decoding can only
    produce a valid choice; the call is parsed from the completion with :func:`agentcore.parse_output`.
    Anything unusable falls back to the rule router, with the reason saying so. Tasks with images go to
    ``vl`` without asking (a text model cannot see them anyway).
    """

    def __init__(self, backend: Any, *, family: str | None = None, specialists: dict[str, Any] | None = None):
        self.backend = backend
        self.family = family or getattr(backend, "family", None) or "qwen3"
        self._specialists = specialists

    def specialists(self) -> dict[str, Any]:
        if self._specialists is not None:
            return self._specialists
        from agentcore.specialists import all_specialists

        return all_specialists()

    def tool_schema(self, names: Sequence[str]) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": CHOOSE_TOOL,
                "description": "Choose the specialist that should handle the user's task.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "specialist": {"type": "string", "enum": list(names)},
                        "thinking": {
                            "type": "boolean",
                            "description": "true when the task needs multi-step reasoning, analysis or a proof",
                        },
                    },
                    "required": ["specialist", "thinking"],
                },
            },
        }

    def request(self, task: str) -> Any:
        """The :class:`~agentcore.backends.base.GenerationRequest` that asks the model to choose."""
        from agentcore.backends.base import GenerationRequest, SamplingParams
        from agentcore.families import get_family
        from agentcore.messages import Message
        from agentcore.prompting import render_prompt

        specialists = self.specialists()
        names = [n for n, s in specialists.items() if not getattr(s, "vision", False)]
        menu = "\n".join(f"- {n}: {specialists[n].description}" for n in names)
        messages = [
            Message(
                role="system",
                content=f"You route tasks to specialists. Call {CHOOSE_TOOL} once. Specialists:\n{menu}",
            ),
            Message(role="user", content=task),
        ]
        tools = [self.tool_schema(names)]
        family = get_family(self.family)
        return GenerationRequest(
            messages=messages,
            prompt=render_prompt(messages, family=family.name, tools=tools, add_generation_prompt=True),
            family=family.name,
            tools=tools,
            tool_format=family.tool_format if family.tool_format != "none" else "hermes",
            tool_choice={"name": CHOOSE_TOOL},
            enable_thinking=False,
            sampling=SamplingParams(greedy=True, max_new_tokens=64),
        )

    def route(self, task: str, images: int = 0) -> RouteDecision:
        specialists = self.specialists()
        if images > 0:
            decision = route_by_rules(task, images, specialists)
            decision.source = "model"
            return decision
        request = self.request(task)
        completion = self.backend.generate(request)
        call = self._parse(completion, request)
        names = {n for n, s in specialists.items() if not getattr(s, "vision", False)}
        if call is None or call.get("specialist") not in names:
            fallback = route_by_rules(task, images, specialists)
            fallback.reason = f"model gave no valid {CHOOSE_TOOL} call; rules: {fallback.reason}"
            return fallback
        name = call["specialist"]
        thinking = call.get("thinking")
        thinking = bool(thinking) if isinstance(thinking, bool) else False
        spec = specialists[name]
        if getattr(spec, "thinking", None) is not None and spec.thinking.mode != "auto":
            thinking = spec.thinking.mode == "on"
        return RouteDecision(
            specialist=name,
            thinking=thinking,
            scores={n: float(n == name) for n in specialists},
            reason=f"the router model chose {name} (thinking {'on' if thinking else 'off'})",
            source="model",
        )

    @staticmethod
    def _parse(completion: Any, request: Any) -> dict[str, Any] | None:
        calls = list(completion.tool_calls or [])
        if not calls:
            from agentcore.parsing import parse_output

            parsed = parse_output(completion.text, format=request.tool_format, tools=request.tools)
            calls = list(parsed.tool_calls)
        for call in calls:
            name = getattr(call, "name", None) if not isinstance(call, dict) else call.get("name")
            args = getattr(call, "arguments", None) if not isinstance(call, dict) else call.get("arguments")
            if name == CHOOSE_TOOL and isinstance(args, dict):
                return args
        return None
