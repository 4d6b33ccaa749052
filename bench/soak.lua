-- wrk script of bench/soak.sh: mixed warm and cold requests over the corpus.
-- SOAK_PATHS: first line the number of versions N, then 3 paths per version (.info, .mod, .zip) in a fixed random
-- order, then the list and @latest paths of every module. SOAK_DURATION: the run's length in seconds.
-- The versions a request may pick form a window that grows over the first 80 % of the run; half of the artifact
-- requests go to the newest eighth of the window (mostly cold), the rest anywhere in it (mostly warm); one request in
-- five asks for a list or @latest.

local artifacts, answers = {}, {}
local versions, duration, started = 0, 600, 0
local threads = 0

local function load()
    local file = assert(io.open(os.getenv("SOAK_PATHS"), "r"))
    versions = tonumber(file:read("*l"))
    local i = 0
    for line in file:lines() do
        i = i + 1
        if i <= versions * 3 then
            artifacts[#artifacts + 1] = line
        else
            answers[#answers + 1] = line
        end
    end
    file:close()
    duration = tonumber(os.getenv("SOAK_DURATION") or "600")
end

function setup(thread)
    threads = threads + 1
    thread:set("seed", threads)
end

function init(args)
    load()
    started = os.time()
    math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
    if math.random() < 0.2 then
        return wrk.format("GET", answers[math.random(#answers)])
    end
    local elapsed = os.time() - started
    local window = math.max(1, math.min(versions, math.floor(versions * elapsed / (0.8 * duration)) + 1))
    local version
    if math.random() < 0.5 then
        local newest = math.max(1, math.floor(window / 8))
        version = window - math.random(newest) + 1
    else
        version = math.random(window)
    end
    return wrk.format("GET", artifacts[(version - 1) * 3 + math.random(3)])
end
