"""Services prone to subdomain takeover: the one catalogue the gate and verify both read.

A CNAME left pointing at a deleted resource on a shared service can be claimed by whoever creates
a resource of that name, who then serves content on your domain (after the public
"can-i-take-over-xyz" catalogue). The gate flags such CNAMEs before apply (`cname-takeover-risk`);
verify names the service when a live CNAME dangles (`dns-dangling-cname`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

# Target domain suffix → the service that hands out names under it.
SERVICES: dict[str, str] = {
    "s3.amazonaws.com": "Amazon S3", "s3-website.amazonaws.com": "Amazon S3 website",
    "cloudfront.net": "Amazon CloudFront", "elasticbeanstalk.com": "AWS Elastic Beanstalk",
    "azurewebsites.net": "Azure App Service", "cloudapp.net": "Azure Cloud Services", "cloudapp.azure.com": "Azure",
    "trafficmanager.net": "Azure Traffic Manager", "blob.core.windows.net": "Azure Blob Storage",
    "azureedge.net": "Azure CDN", "azurefd.net": "Azure Front Door", "azure-api.net": "Azure API Management",
    "herokuapp.com": "Heroku", "herokudns.com": "Heroku", "github.io": "GitHub Pages", "gitlab.io": "GitLab Pages",
    "bitbucket.io": "Bitbucket", "netlify.app": "Netlify", "netlify.com": "Netlify", "vercel.app": "Vercel",
    "pages.dev": "Cloudflare Pages", "surge.sh": "Surge", "pantheonsite.io": "Pantheon",
    "readthedocs.io": "Read the Docs", "ghost.io": "Ghost", "myshopify.com": "Shopify", "wpengine.com": "WP Engine",
    "webflow.io": "Webflow", "unbouncepages.com": "Unbounce", "helpscoutdocs.com": "Help Scout",
    "zendesk.com": "Zendesk", "fly.dev": "Fly.io", "onrender.com": "Render", "firebaseapp.com": "Firebase Hosting",
    "web.app": "Firebase Hosting", "appspot.com": "Google App Engine", "ngrok.io": "ngrok",
    "uservoice.com": "UserVoice", "strikinglydns.com": "Strikingly", "wordpress.com": "WordPress.com",
    "tumblr.com": "Tumblr", "fastly.net": "Fastly",
}

# Region-qualified endpoints a suffix list cannot enumerate (S3 website and REST endpoints in every
# region: bucket.s3-website-eu-west-1.amazonaws.com, bucket.s3.eu-west-1.amazonaws.com, ...).
PATTERNS: dict[str, str] = {
    r"\.s3(-website)?([.-][a-z]{2}(-gov)?-[a-z]+-\d)?\.amazonaws\.com$": "Amazon S3",
    r"\.s3-website\.[a-z]{2}(-gov)?-[a-z]+-\d\.amazonaws\.com$": "Amazon S3 website",
}

SUFFIXES = list(SERVICES)


def takeover_service(target: str, suffixes: Iterable[str] | None = None,
                     patterns: Iterable[str] | None = None) -> str | None:
    """The takeover-prone service `target` belongs to, or None.

    `suffixes` and `patterns` narrow or widen the catalogue (the policy's config does); a suffix
    outside the catalogue is named by itself."""
    t = target.rstrip(".").lower()
    for suffix in (SERVICES if suffixes is None else suffixes):
        s = suffix.rstrip(".").lower()
        if t == s or t.endswith("." + s):
            return SERVICES.get(s, s)
    for pattern in (PATTERNS if patterns is None else patterns):
        if re.search(pattern, t):
            return PATTERNS.get(pattern, "Amazon S3")
    return None
