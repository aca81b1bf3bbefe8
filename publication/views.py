"""The public pages: no sign-in, server-rendered, readable without JavaScript.

Each answer is cached by the public stamp (``replies.api.public_cache``): a publication or a
correction changes the stamp in its own transaction, so the next request after the commit builds
the page again. A conditional GET whose ETag carries the current stamp is a 304 after a single
query. ``Cache-Control`` lets a shared cache keep a page for ``PAGE_MAX_AGE`` and then
revalidate it.
"""

from __future__ import annotations

import datetime
import io
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_safe

from publication import search, selectors
from publication.embedding import allow_portal_frames
from publication.hooks import public_pdf
from replies.api import public_cache
from replies.api.views import (
    LetterIntegrityUnavailable,
    content_disposition,
    public_pdf_bytes,
    published_replies,
)

#: How long a browser or a proxy may keep a page before revalidating it (a publication must
#: be visible within a second).
PAGE_MAX_AGE = datetime.timedelta(seconds=1)
FEED_SIZE = 50


def _cacheable(response: HttpResponseBase) -> HttpResponseBase:
    allow_portal_frames(response)
    if response.status_code in (200, 304, 410):
        patch_cache_control(response, public=True, max_age=int(PAGE_MAX_AGE.total_seconds()))
    else:
        patch_cache_control(response, no_store=True)
    return response


def cached_page(build):
    """Serve ``build(request, **kwargs)`` from the cache keyed by the public stamp."""

    def view(request, **kwargs):
        token, changed_at = public_cache.stamp() or ("", None)
        if changed_at is None:
            return _cacheable(build(request, **kwargs))
        key = public_cache.key_for(request, token, part="page")
        response = public_cache.not_modified(request, key, changed_at)
        if response is None:
            hit = public_cache.get(key)
            if hit is not None:
                status, content_type, content = hit
                response = HttpResponse(content, status=status, content_type=content_type)
            else:
                response = build(request, **kwargs)
                if response.status_code in (200, 410):
                    public_cache.put(
                        key, (response.status_code, response["Content-Type"], response.content)
                    )
        public_cache.add_validators(response, key, changed_at)
        return _cacheable(response)

    view.__name__ = build.__name__
    view.__doc__ = build.__doc__
    return require_safe(view)


def _list(request):
    """已公开答复：检索（?q=）、按届次会议、承办单位、年份、办理结果筛选，分页。"""
    filters = selectors.Filters.from_query(request.GET)
    text = (request.GET.get("q") or "").strip()[:100]
    qs = filters.apply(selectors.public_replies())
    words: tuple[str, ...] = ()
    if text:
        ids, query = search.search_ids(text)
        words = query.words
        # The filters narrow the ranked ids; only the page's rows are loaded.
        allowed = set(qs.filter(pk__in=ids).values_list("pk", flat=True))
        paginator = Paginator([pk for pk in ids if pk in allowed], selectors.PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        loaded = qs.filter(pk__in=page.object_list).select_related("proposal").in_bulk()
        rows = [loaded[pk] for pk in page.object_list if pk in loaded]
    else:
        paginator = Paginator(qs.select_related("proposal"), selectors.PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        rows = list(page.object_list)
    items = []
    for reply in rows:
        texts = search.public_texts(reply)
        items.append(
            {
                "reply": reply,
                "title": texts["title"],
                "snippet": search.snippet(texts["body"], words) if words else "",
            }
        )
    keep = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "publication/list.html",
        {
            "items": items,
            "page": page,
            "count": paginator.count,
            "q": text,
            "filters": filters,
            "choices": selectors.filter_choices(),
            "page_query": urlencode(keep),
        },
    )


def _detail(request, pk: int):
    """一份已公开答复：政务公开元数据、全文与公开版 PDF；被更正撤下的答复答 410。"""
    reply = published_replies().select_related("proposal").filter(pk=pk).first()
    if reply is None:
        return _gone_or_404(request, pk)
    stored, _sha = public_pdf(reply)
    texts = search.public_texts(reply)
    return render(
        request,
        "publication/detail.html",
        {
            "reply": reply,
            "title": texts["title"],
            "salutation": texts["salutation"],
            "metadata": selectors.metadata(reply),
            "blocks": selectors.body_blocks(reply),
            "has_pdf": bool(stored),
            "supersedes": reply.supersedes,
        },
    )


def _gone_or_404(request, pk: int):
    gone = selectors.withdrawn_reply(pk)
    if gone is None:
        raise Http404("no such published reply")
    reply, correction = gone
    return render(
        request,
        "publication/gone.html",
        {"reply": reply, "correction": correction},
        status=410,
    )


@require_safe
def reply_pdf(request, pk: int):
    """公开版 PDF：遮蔽个人信息后的文本排版；无遮蔽时即签发件（读取一次、核验后发送；核验未通过
    则不提供，答 409 并说明办公室正在核验）。ETag 为文件的 SHA-256。"""
    reply = published_replies().filter(pk=pk).first()
    if reply is None:
        return _cacheable(_gone_or_404(request, pk))
    stored, sha256 = public_pdf(reply)
    if not stored or not sha256:
        raise Http404("the public PDF is not rendered yet")
    etag = f'"{sha256}"'
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponseBase = HttpResponse(status=304)
    else:
        try:
            data = public_pdf_bytes(reply, stored, sha256)
        except LetterIntegrityUnavailable:
            return _original_being_checked(request, reply)
        response = FileResponse(io.BytesIO(data), content_type="application/pdf")
        response["Content-Disposition"] = content_disposition(
            "attachment", f"{reply.doc_number or reply.title}.pdf", f"reply-{reply.pk}.pdf"
        )
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=24 * 3600)
    return response


def _original_being_checked(request, reply) -> HttpResponse:
    """The signed original no longer verifies (or its file is gone): not served; a page says
    the office is checking it. Never cached: the file is served again once it verifies."""
    response = render(request, "publication/pdf_checking.html", {"reply": reply}, status=409)
    allow_portal_frames(response)
    patch_cache_control(response, no_store=True)
    return response


def _feed(request):
    """Atom：最新公开的答复；更正作为单独条目。"""
    base = request.build_absolute_uri("/")[:-1]
    feed = Atom1Feed(
        title="提案办理答复公开",
        link=base + reverse("publication:list"),
        description="区政协提案办理答复（政务公开）",
        language="zh-hans",
        feed_url=base + reverse("publication:feed"),
    )
    replies = selectors.public_replies().select_related("proposal", "supersedes")[:FEED_SIZE]
    for reply in replies:
        texts = search.public_texts(reply)
        title = texts["title"]
        if reply.supersedes_id:
            old = reply.supersedes
            title = f"【更正】{title}（更正 {old.doc_number or old.title}）"
        published = datetime.datetime.combine(
            reply.published_on, datetime.time(9, 0), tzinfo=datetime.UTC
        )
        feed.add_item(
            title=title,
            link=base + reverse("publication:detail", args=[reply.pk]),
            description=search.snippet(texts["body"], (), width=200),
            unique_id=f"{base}/public/replies/{reply.pk}/",
            pubdate=published,
            updateddate=reply.updated_at,
            author_name=reply.unit.organ_name or reply.unit.name,
            categories=[reply.result_label] if reply.result_label else None,
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response


def _sitemap(request):
    base = request.build_absolute_uri("/")[:-1]
    rows = (
        published_replies().order_by("-published_on", "-id").values_list("pk", "updated_at")[:50000]
    )
    content = render_to_string(
        "publication/sitemap.xml",
        {"base": base, "list_url": reverse("publication:list"), "rows": rows},
    )
    return HttpResponse(content, content_type="application/xml; charset=utf-8")


reply_list = cached_page(_list)
reply_detail = cached_page(_detail)
feed = cached_page(_feed)
sitemap = cached_page(_sitemap)
